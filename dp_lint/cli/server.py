"""`dp-lint server`: the language server, over standard input and output."""

from __future__ import annotations

import click

from dp_lint.cli.common import CliError


@click.command("server")
@click.option("--stdio", is_flag=True, help="Talk over standard input and output (the default and only transport; "
                                             "accepted because editors pass it).")
def server_command(stdio: bool) -> None:
    """Run the dp-lint language server (LSP) for editors.

    Diagnostics, quick fixes, "fix all safe" and hover for the open Python files, checked
    with their project and configuration as `check` does. Needs the `server` extra
    (pygls, lsprotocol). Set-up for VS Code, Neovim and Helix: docs/editors.md.
    """
    try:
        # deferred: pygls is an optional dependency, loaded only by this command.
        from dp_lint.server.lsp import serve
    except ImportError as error:
        raise CliError(f"`dp-lint server` needs pygls and lsprotocol ({error}); "
                       "install the `server` extra, e.g. `pip install -e \".[server]\"` in a dp-lint clone") from None
    serve()

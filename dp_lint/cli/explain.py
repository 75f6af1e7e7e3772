"""`dp-lint explain CODE`: a rule's documentation (its README)."""

from __future__ import annotations

import click

from dp_lint.catalogue.loader import all_codes, find_entry
from dp_lint.cli import common
from dp_lint.cli.common import CliError, report_internal_errors


@click.command()
@click.argument("code")
def explain(code: str) -> None:
    """Show the documentation of a rule, by CODE (DPL001) or name."""
    with report_internal_errors():
        entry = find_entry(code)
        if entry is None:
            known = ", ".join(sorted(all_codes()))
            raise CliError(f"unknown rule {code!r}; known codes: {known}")
        documentation = entry.documentation
    if common.is_terminal():
        # deferred: rich's markdown renderer is only needed on a terminal.
        from rich.console import Console
        from rich.markdown import Markdown

        Console().print(Markdown(documentation))
    else:
        click.echo(documentation, nl=not documentation.endswith("\n"))

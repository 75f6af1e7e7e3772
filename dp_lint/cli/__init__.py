"""The `dp-lint` command: one module per subcommand, assembled here.

Exit status of `check`: 0 no findings, 1 findings, 2 a usage or internal error.
"""

from __future__ import annotations

import click

from dp_lint import __version__
from dp_lint.cli.check import check
from dp_lint.cli.config import config_command
from dp_lint.cli.explain import explain
from dp_lint.cli.fix import fix
from dp_lint.cli.rules import rules_command
from dp_lint.cli.server import server_command
from dp_lint.cli.verify import verify_command


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="dp-lint", message="%(prog)s %(version)s")
def main() -> None:
    """dp-lint: find PyTorch model code that breaks Opacus' per-sample gradients."""


for _command in (check, config_command, rules_command, explain, fix, verify_command):
    main.add_command(_command)
main.add_command(server_command)

__all__ = ["main"]

"""`dp-lint rules`: every code with its name, summary and fix availability."""

from __future__ import annotations

import json

import click

from dp_lint.catalogue import loader as catalogue
from dp_lint.cli import common
from dp_lint.cli.common import report_internal_errors


def rule_rows() -> list[dict[str, str]]:
    return sorted(
        (
            {"code": entry.code, "name": entry.name, "summary": entry.summary, "fix": entry.fix_availability}
            for entry in catalogue.load_catalogue()
        ),
        key=lambda row: row["code"],
    )


@click.command("rules")
@click.option("--output-format", type=click.Choice(["table", "json"]), default="table", show_default=True)
def rules_command(output_format: str) -> None:
    """List every rule: code, name, summary and whether it has a fix."""
    with report_internal_errors():
        rows = rule_rows()
    if output_format == "json":
        click.echo(json.dumps(rows, indent=2))
        return
    columns = ("code", "name", "summary", "fix")
    if common.is_terminal():
        # deferred: rich tables are only drawn on a terminal.
        from rich.console import Console
        from rich.table import Table

        table = Table(*(c.capitalize() for c in columns))
        for row in rows:
            table.add_row(*(row[c] for c in columns))
        Console().print(table)
        return
    # Plain, aligned columns: easy to read in a log and to grep.
    widths = {c: max(len(c), *(len(row[c]) for row in rows)) for c in columns}
    for row in [dict(zip(columns, (c.upper() for c in columns))), *rows]:
        click.echo("  ".join(row[c].ljust(widths[c]) for c in columns).rstrip())

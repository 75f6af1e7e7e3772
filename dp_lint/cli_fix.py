"""The `dp-lint fix` command (registered on the main group in cli.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from dp_lint.findings import Applicability


@click.command("fix")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--apply", "apply_fixes", is_flag=True, help="Write the fixes (default: only show them as a diff).")
@click.option("--unsafe-fixes", is_flag=True, help="Also apply fixes that change the model's layout or weights.")
@click.option("--select", multiple=True, metavar="CODES", help="Only these rule codes or prefixes.")
@click.option("--ignore", multiple=True, metavar="CODES", help="Skip these rule codes or prefixes.")
@click.option(
    "--config",
    "config_file",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Read [tool.dp-lint] from this file instead of the nearest pyproject.toml.",
)
def fix(paths, apply_fixes: bool, unsafe_fixes: bool, select, ignore, config_file) -> None:
    """Show (or with --apply, write) every available fix for PATHS.

    Safe fixes keep what the model computes in ordinary training; unsafe ones change
    its layout or weights and need --unsafe-fixes. Exit status: 0 when no finding is
    left, 1 when some remain, 2 on errors.
    """
    from dp_lint import catalogue
    from dp_lint import cli as main_cli
    from dp_lint.discovery import discover
    from dp_lint.fixing import run_fixes, unified_diff, write_fixes
    from dp_lint.output import display_path, format_findings

    with main_cli._report_internal_errors():
        config = main_cli._load_config(config_file, paths)
        known = catalogue.all_codes()
        selected = main_cli.parse_codes(select, known, "--select") if select else None
        ignored = main_cli.parse_codes(ignore, known, "--ignore")
        files = discover(list(paths) or ["."], on_error=main_cli._warn_unreadable_folder)
        report = run_fixes(files, select=selected, ignore=ignored, config=config, unsafe=unsafe_fixes)

        problems = []
        if apply_fixes:
            problems = write_fixes(report)
        else:
            click.echo(unified_diff(report, display_path), nl=False)

        changed = report.changed
        verb = "Fixed" if apply_fixes else "Would fix"
        click.echo(
            f"{verb} {len(report.fixed)} finding{'s' * (len(report.fixed) != 1)} "
            f"in {len(changed)} file{'s' * (len(changed) != 1)}."
        )
        for finding, reason in report.dropped:
            click.echo(f"Dropped the fix for {finding.code} at {display_path(finding.path)}:{finding.location.row}: {reason}.")
        if report.remaining:
            click.echo(f"{len(report.remaining)} left for manual work:")
            lines = format_findings(report.remaining, "concise", color=False).splitlines()
            for finding, line in zip(report.remaining, lines):
                note = ""
                if finding.fix is not None and finding.fix.applicability is Applicability.UNSAFE and not unsafe_fixes:
                    note = "  (unsafe fix available: --unsafe-fixes)"
                click.echo(f"  {line}{note}")
        for problem in problems:
            click.echo(f"error: {problem}", err=True)
        for error in report.internal_errors:
            click.echo(f"error: dp-lint stopped analysing {error}; please report this bug.", err=True)
    if problems or report.internal_errors:
        sys.exit(2)
    sys.exit(1 if report.remaining else 0)

"""`dp-lint fix`: show or write every available fix (same configuration options as `check`)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from dp_lint.cli.common import (
    CliError,
    config_options,
    overrides,
    report_failures,
    report_internal_errors,
    run_options,
    warn_unreadable_folder,
)
from dp_lint.config.settings import ConfigError
from dp_lint.core.findings import Applicability
from dp_lint.core.paths import display_path
from dp_lint.lint import run as runner
from dp_lint.lint.fix_loop import FixReport, run_fixes, settle, unified_diff, write_fixes
from dp_lint.report.output import format_findings
from dp_lint.report.sources import Places


@click.command("fix")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--apply", "apply_fixes", is_flag=True, help="Write the fixes (default: only show them as a diff).")
@click.option("--unsafe-fixes", is_flag=True, help="Also apply fixes that change the model's layout or weights.")
@config_options
@click.option(
    "--force-exclude",
    is_flag=True,
    help="Apply exclusions (exclude, .gitignore) to paths named on the command line too (for pre-commit).",
)
@click.option(
    "--no-cache",
    is_flag=True,
    help="Accepted for symmetry with `check`: `fix` always analyses afresh and never uses the cache.",
)
@click.option(
    "--verify",
    is_flag=True,
    help="Run every model a fix touches under Opacus before and after the fix (in a child process, on a "
         "temporary copy); with --apply, write only confirmed fixes.",
)
@click.option("--show-fixes", is_flag=True, help="List every finding fixed (or, without --apply, that would be).")
@click.option("--quiet", "-q", is_flag=True,
              help="Print only the diff (without --apply) and errors: no summary, no findings left.")
@run_options("verify-")
def fix(paths, apply_fixes, unsafe_fixes, config_file, select, extend_select, ignore, exclude,
        extend_exclude, assume_batch_first, opacus_version, force_exclude, verify, verify_timeout,
        verify_device, show_fixes=False, quiet=False, no_cache=False) -> None:
    """Show (or with --apply, write) every available fix for PATHS.

    Safe fixes keep what the model computes in ordinary training; unsafe ones change
    its layout or weights and need --unsafe-fixes. Fixing repeats until nothing changes.
    Every position printed is one in the files as they are after the command (without
    --apply: as they are now). Exit status: 0 when no finding is left, 1 when some remain,
    2 on errors (a file that could not be written, a read-only file, ...).
    """
    with report_internal_errors():
        if any(str(p) == runner.STDIN for p in paths):
            raise CliError("`fix` works on files; `-` (standard input) is not supported")
        options = overrides(select, extend_select, ignore, exclude, extend_exclude,
                                        assume_batch_first, opacus_version)
        request = runner.Request(paths=paths, config_file=config_file, overrides=options,
                                 force_exclude=force_exclude)
        try:
            report = run_fixes(request, unsafe=unsafe_fixes, on_error=warn_unreadable_folder)
        except ConfigError as error:
            raise CliError(str(error)) from None

        if verify:
            _verify(report, apply_fixes, verify_timeout, verify_device)
        problems = write_fixes(report) if apply_fixes else []
        settle(report, applied=apply_fixes)
        if not apply_fixes:
            click.echo(unified_diff(report, display_path), nl=False)
        if not quiet:
            _summary(report, apply_fixes, unsafe_fixes, show_fixes)
        for problem in problems:
            click.echo(f"error: {problem}", err=True)
        report_failures(report.internal_errors)
    if problems or report.internal_errors:
        sys.exit(2)
    sys.exit(1 if report.remaining else 0)



def _summary(report: FixReport, apply_fixes: bool, unsafe_fixes: bool, show_fixes: bool) -> None:
    """`Fixed N findings in M files.` (only files written count), the fixes dropped, and
    the findings left as a fresh `check` reports them."""
    changed = report.written if apply_fixes else [s.path for s in report.changed]
    verb = "Fixed" if apply_fixes else "Would fix"
    click.echo(
        f"{verb} {len(report.fixed)} finding{'s' * (len(report.fixed) != 1)} "
        f"in {len(changed)} file{'s' * (len(changed) != 1)}."
    )
    if show_fixes:
        for finding in report.fixed:
            title = f" ({finding.fix.message})" if finding.fix is not None and finding.fix.message else ""
            click.echo(f"  {display_path(finding.path)}: {finding.code} {finding.message}{title}")
    places = Places()
    for finding, reason in report.dropped:
        # The dropped fix's finding is still there: name its place as a fresh check does.
        left = next((f for f in report.remaining if (f.path, f.code, f.message) ==
                     (finding.path, finding.code, finding.message)), None)
        where = display_path(finding.path)
        if left is not None:
            placement = places.of(left)
            cell = f"cell {placement.cell}:" if placement.cell is not None else ""
            where += f":{cell}{placement.location.row}"
        click.echo(f"Dropped the fix for {finding.code} at {where}: {reason}.")
    if report.remaining:
        click.echo(f"{len(report.remaining)} left for manual work:")
        for finding in report.remaining:
            line = format_findings([finding], "concise", color=False).splitlines()[0]
            note = ""
            if finding.fix is not None and finding.fix.applicability is Applicability.UNSAFE and not unsafe_fixes:
                note = "  (unsafe fix available: --unsafe-fixes)"
            click.echo(f"  {line}{note}")


def _verify(report: FixReport, apply_fixes: bool, timeout: float, device: str) -> None:
    """Print before -> after verdicts; with --apply, keep only the files whose fixes were confirmed."""
    # deferred: the verify package loads only with --verify, not at start-up.
    from dp_lint.verify.fixes import verify_fixes
    from dp_lint.verify.targets import VerifyUsageError

    try:
        verification = verify_fixes(report, device=device, timeout=timeout, display=display_path)
    except VerifyUsageError as error:
        raise CliError(str(error)) from None
    for line in verification.lines:
        click.echo(line)
    if apply_fixes:
        for state in report.changed:
            if state.path not in verification.confirmed_files:
                reason = verification.rejected.get(state.path, "not confirmed")
                click.echo(f"Not written: {display_path(state.path)} ({reason}).")
                state.text = state.original_text
        report.fixed = [f for f in report.fixed if f.path in verification.confirmed_files]

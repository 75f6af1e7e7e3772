"""`dp-lint check`: report findings (or add suppressions for them)."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable, Iterator, Mapping, MutableMapping
from pathlib import Path
from typing import TextIO

import click

from dp_lint.cli import common
from dp_lint.cli.common import (
    EXIT_ERROR,
    EXIT_FINDINGS,
    CliError,
    config_options,
    overrides,
    report_failures,
    report_internal_errors,
    resolver,
    run_options,
    warn_unreadable_folder,
)
from dp_lint.cli.fix import fix as fix_command
from dp_lint.cli.verify import verify_check_findings
from dp_lint.config.settings import ConfigError
from dp_lint.core.paths import display_path
from dp_lint.files.source import SourceError, decode_source
from dp_lint.lint import run as runner
from dp_lint.lint.suppressions import add_suppressions
from dp_lint.report.ci import statistics as format_statistics
from dp_lint.report.output import FORMATS, TEXT_FORMATS, format_findings, summary_line, use_color

Progress = Callable[[str, int, int], None]


@click.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option(
    "--output-format",
    type=click.Choice(FORMATS),
    default=None,
    help="How to print findings [default: full on a terminal, concise otherwise].",
)
@config_options
@click.option("--exit-zero", is_flag=True, help="Exit with status 0 even when there are findings.")
@click.option(
    "--force-exclude",
    is_flag=True,
    help="Apply exclusions (exclude, .gitignore) to paths named on the command line too (for pre-commit).",
)
@click.option(
    "--stdin-filename",
    metavar="PATH",
    default=None,
    help="With `-` as the path: the name of the file read from standard input (for configuration and messages).",
)
@click.option(
    "--add-noqa",
    is_flag=True,
    help="Add `# dp-lint: ignore[CODE]` to the line of every current finding instead of reporting it.",
)
@click.option("--statistics", is_flag=True, help="Print the number of findings per rule instead of the findings.")
@click.option(
    "--output-file",
    "-o",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Write the output to this file instead of standard output.",
)
@click.option(
    "--show-progress/--no-progress",
    default=None,
    help="Progress bar for long runs [default: only when both standard output and standard error are terminals and CI is unset].",
)
@click.option(
    "--no-cache",
    is_flag=True,
    help="Do not read or write the result cache (`.dp_lint_cache/` at the project root, or `cache-dir`).",
)
@click.option(
    "--verify",
    "verify",
    is_flag=True,
    help="Run the models involved in findings under Opacus (needs torch and opacus; user code runs in a "
         "child process) and add each finding's runtime verdict: confirmed: crash/silent, not confirmed: ok...",
)
@click.option("--fix", "fix_apply", is_flag=True, help="Write the fixes: the same as `dp-lint fix --apply`.")
@click.option("--diff", "fix_diff", is_flag=True, help="Show the fixes as a diff: the same as `dp-lint fix`.")
@click.option("--unsafe-fixes", is_flag=True,
              help="Count unsafe fixes as fixable (`[*]`); with --fix or --diff, apply them too.")
@click.option("--show-fixes", is_flag=True,
              help="Show each finding's fix (full format: as a diff; with --fix: list the fixed findings).")
@click.option("--quiet", "-q", is_flag=True, help="Print the findings only: no summary line, no warnings.")
@run_options("verify-")
@click.pass_context
def check(
    ctx: click.Context,
    paths: tuple[Path, ...],
    output_format: str | None,
    config_file: Path | None,
    select: tuple[str, ...],
    extend_select: tuple[str, ...],
    ignore: tuple[str, ...],
    exclude: tuple[str, ...],
    extend_exclude: tuple[str, ...],
    assume_batch_first: bool | None,
    opacus_version: str | None,
    exit_zero: bool,
    force_exclude: bool,
    stdin_filename: str | None,
    add_noqa: bool,
    statistics: bool,
    output_file: Path | None,
    show_progress: bool | None,
    verify: bool = False,
    verify_timeout: float = 120.0,
    verify_device: str = "auto",
    fix_apply: bool = False,
    fix_diff: bool = False,
    unsafe_fixes: bool = False,
    show_fixes: bool = False,
    quiet: bool = False,
    no_cache: bool = False,
) -> None:
    """Check PATHS (files or folders; default: the current folder; `-`: standard input)."""
    if fix_apply or fix_diff:
        _as_fix(ctx, apply=fix_apply, conflicts={
            "--diff": fix_apply and fix_diff, "--add-noqa": add_noqa, "--statistics": statistics,
            "--output-format": output_format is not None, "--output-file": output_file is not None,
            "--stdin-filename": stdin_filename is not None, "--exit-zero": exit_zero,
        })
        return
    with report_internal_errors():
        options = overrides(select, extend_select, ignore, exclude, extend_exclude, assume_batch_first, opacus_version)
        stdin_text = None
        if any(str(p) == runner.STDIN for p in paths):
            if len(paths) != 1:
                raise CliError("`-` (standard input) cannot be combined with other paths")
            if add_noqa:
                raise CliError("--add-noqa cannot be used with `-` (standard input): there is no file to write")
            stdin_text = _read_stdin()
        elif stdin_filename is not None:
            raise CliError("--stdin-filename needs `-` as the path")
        request = runner.Request(
            paths=paths,
            config_file=config_file,
            overrides=options,
            force_exclude=force_exclude,
            stdin_text=stdin_text,
            stdin_filename=stdin_filename,
            cache=not no_cache and not verify,
        )
        try:
            configs = resolver(config_file, options)
            with _progress(show_progress) as progress:
                run = runner.run(request, on_error=warn_unreadable_folder, progress=progress, resolver=configs)
        except ConfigError as error:
            raise CliError(str(error)) from None
        if not run.files and stdin_text is None and not quiet:
            click.echo("warning: no Python files found under the given paths", err=True)
        for path, bad in ([] if quiet else run.malformed):
            click.echo(
                f"warning: {display_path(path)}:{bad.row}:{bad.column}: malformed suppression comment "
                f"`{bad.text}`, ignored; write `# dp-lint: ignore` or `# dp-lint: ignore[DPL001, ...]`",
                err=True,
            )
        if add_noqa:
            _add_noqa(run)
            return
        if verify:
            verify_check_findings(run, timeout=verify_timeout, device=verify_device,
                                  stdin=stdin_text is not None)

        to_file = output_file is not None
        color = not to_file and use_color(sys.stdout)
        if output_format is None:
            output_format = "full" if (common.is_terminal() and not to_file) else "concise"
        sources = run.texts  # what the check decoded: the code frames read no file again
        if statistics:
            text = format_statistics(run.findings, output_format, run.internal_errors)
        else:
            text = format_findings(run.findings, output_format, color=color, sources=sources, files=run.files,
                                   show_fixes=show_fixes, unsafe_fixes=unsafe_fixes,
                                   failures=run.internal_errors)
        if output_format in TEXT_FORMATS and not quiet:
            text += summary_line(run.findings, unsafe_fixes=unsafe_fixes, failures=run.internal_errors) + "\n"
        if output_file is not None:
            try:
                output_file.write_text(text, encoding="utf-8")
            except OSError as exc:
                raise CliError(f"cannot write {output_file}: {exc.strerror or exc}") from None
        else:
            click.echo(text, nl=False, color=color)
        report_failures(run.internal_errors)
    if run.internal_errors:
        sys.exit(EXIT_ERROR)
    if run.findings and not exit_zero:
        sys.exit(EXIT_FINDINGS)


def _as_fix(ctx: click.Context, *, apply: bool, conflicts: Mapping[str, bool]) -> None:
    """`check --fix` is `fix --apply` and `check --diff` is `fix`, as ruff users type them;
    the options `fix` shares with `check` go along."""
    for option, given in conflicts.items():
        if given:
            flag = "--fix" if apply else "--diff"
            raise CliError(f"{option} cannot be combined with {flag}" if option != "--diff"
                           else "--fix and --diff cannot be combined")
    params = ctx.params
    shared = ("paths", "config_file", "select", "extend_select", "ignore", "exclude", "extend_exclude",
              "assume_batch_first", "opacus_version", "force_exclude", "verify", "verify_timeout",
              "verify_device", "unsafe_fixes", "show_fixes", "quiet")
    ctx.invoke(fix_command, apply_fixes=apply, **{name: params[name] for name in shared})


def _read_stdin() -> str:
    buffer = getattr(sys.stdin, "buffer", None)
    data = buffer.read() if buffer is not None else sys.stdin.read().encode("utf-8")
    try:
        return decode_source(data)
    except SourceError as error:
        raise CliError(f"cannot read standard input: {error.message}") from None


def _add_noqa(run: runner.Run) -> None:
    result = add_suppressions(run.findings)
    for path, row, why in result.skipped:
        click.echo(f"warning: {display_path(path)}:{row}: no suppression comment added: {why}", err=True)
    for error in result.errors:
        click.echo(f"error: {error}", err=True)
    files = len(result.files)
    click.echo(
        f"Added {result.added} suppression{'s' * (result.added != 1)} "
        f"to {files} file{'s' * (files != 1)}.",
        err=True,
    )
    if result.errors:
        sys.exit(EXIT_ERROR)


# Progress bars only for runs long enough to want one.
PROGRESS_MIN_FILES = 50


def progress_wanted(flag: bool | None, environ: Mapping[str, str] | None = None,
                    stdout: TextIO | None = None, stderr: TextIO | None = None) -> bool:
    """A progress bar only on a terminal: never in a pipe, a file or a CI log."""
    if flag is not None:
        return flag
    environ = os.environ if environ is None else environ
    if environ.get("CI"):
        return False
    streams = (stdout or sys.stdout, stderr or sys.stderr)
    return all(getattr(s, "isatty", lambda: False)() for s in streams)


@contextlib.contextmanager
def _progress(flag: bool | None) -> Iterator[Progress | None]:
    """A transient rich progress bar on standard error, started once there are enough files."""
    if not progress_wanted(flag):
        yield None
        return
    # deferred: rich's progress machinery is only needed on a terminal.
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    console = Console(file=sys.stderr)
    bar = Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=console, transient=True,
    )
    tasks: MutableMapping[str, object] = {}
    labels = {"parse": "Parsing files", "rules": "Running rules"}

    def report(stage: str, done: int, total: int) -> None:
        if stage == "parse" and total < PROGRESS_MIN_FILES and not flag:
            return
        if stage != "parse" and not tasks:
            return  # the files were too few for a bar
        if not tasks:
            bar.start()
        if stage not in tasks:
            tasks[stage] = bar.add_task(labels.get(stage, stage), total=total)
        bar.update(tasks[stage], completed=done + 1)  # type: ignore[arg-type]

    try:
        yield report
    finally:
        if tasks:
            bar.stop()

"""The `dp-lint` command: `check`, `rules`, `explain`.

Exit status of `check`: 0 no findings, 1 findings, 2 a usage or internal error.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import traceback
from pathlib import Path
from typing import Iterable, Iterator

import click

from dp_lint import __version__
from dp_lint import catalogue
from dp_lint.discovery import UsageError, discover
from dp_lint.output import FORMATS, TEXT_FORMATS, format_findings, summary_line, use_color

EXIT_FINDINGS = 1
EXIT_ERROR = 2
EXIT_BROKEN_PIPE = 141  # what a shell reports for a process killed by SIGPIPE

# DPL000 is reported by the engine itself; it has no folder in the catalogue.
ENGINE_CODE_DOCS = {
    "DPL000": {
        "summary": "A file cannot be read, decoded or parsed, so it was not checked.",
        "documentation": (
            "# DPL000 syntax-error\n\n"
            "dp-lint could not analyse this file: it cannot be read, it is not valid text in\n"
            "its declared encoding (UTF-8 unless a PEP 263 `coding:` line says otherwise), or\n"
            "it is not valid Python syntax. The finding points at the first offending byte or\n"
            "token. The rest of the project is still checked, but nothing in this file is, so\n"
            "a model defined here may hide other findings.\n\n"
            "Fix the file (or exclude it from the paths given to `dp-lint check`).\n"
        ),
    },
    "DPL900": {
        "summary": "A suppression comment (`# dp-lint: ignore[...]`, `# noqa: DPL...`) suppresses nothing.",
        "fix": "safe",
        "documentation": (
            "# DPL900 unused-suppression\n\n"
            "A `# dp-lint: ignore[CODE]` comment (or a `# noqa: CODE` comment naming a dp-lint\n"
            "code) is on a line where that code reports nothing, names a code dp-lint does not\n"
            "know, or a bare `# dp-lint: ignore` is on a line without any finding.\n\n"
            "## Why it matters\n\n"
            "A suppression outlives the problem it silenced: after the model is fixed, the\n"
            "comment stays and would hide the next, different problem of that rule on the same\n"
            "line. Reporting it keeps suppressions honest, as ruff's RUF100 does.\n\n"
            "## What is not reported\n\n"
            "- A bare `# noqa` and `# noqa` codes of other tools (`# noqa: E501`): they belong\n"
            "  to flake8, ruff and friends.\n"
            "- Codes of rules that did not run on the file (not selected, ignored, or turned\n"
            "  off by `per-file-ignores`), and a bare `# dp-lint: ignore` when any rule was off.\n"
            "- Anything, when a rule stopped on an internal error (its findings are missing).\n"
            "- A suppression that lists `DPL900` itself.\n\n"
            "## Example\n\n"
            "```python\n"
            "z = self.encoder(x)  # dp-lint: ignore[DPL001]   <- no DPL001 here any more\n"
            "```\n\n"
            "## Fix\n\n"
            "Safe: the fix removes the comment, or only the unused codes from its list\n"
            "(`# dp-lint: ignore[DPL001, DPL003]` becomes `# dp-lint: ignore[DPL001]`); other\n"
            "comments on the line are kept. `dp-lint fix --apply` applies it.\n"
        ),
    },
}


class CliError(click.ClickException):
    """A usage error reported as `Error: ...` with exit status 2."""

    exit_code = EXIT_ERROR


@contextlib.contextmanager
def _report_internal_errors() -> Iterator[None]:
    """Turn an unexpected exception into a short plea to report it (exit 2).

    A linter must not answer a user's code with a traceback: it reads like the
    user's bug. DP_LINT_DEBUG=1 shows the traceback for whoever fixes it.
    """
    try:
        yield
    except (click.exceptions.ClickException, click.exceptions.Exit, click.exceptions.Abort):
        raise
    except UsageError as exc:
        raise CliError(str(exc)) from None
    except BrokenPipeError:
        # The reader went away (`dp-lint check | head`): not dp-lint's error. Point
        # stdout at /dev/null so the interpreter's final flush stays quiet too.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(EXIT_BROKEN_PIPE)
    except Exception as exc:  # noqa: BLE001 - this is the last line of defence
        if os.environ.get("DP_LINT_DEBUG") == "1":
            traceback.print_exc()
        detail = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        click.echo(
            f"error: dp-lint stopped on an internal error ({detail}). This is a bug in "
            "dp-lint, not a finding in your code. Please report it to the dp-lint "
            "maintainers with the command you ran, the dp-lint version "
            f"({__version__}) and, if you can share it, the file being checked. "
            "Run again with DP_LINT_DEBUG=1 to include the traceback.",
            err=True,
        )
        sys.exit(EXIT_ERROR)


def _is_terminal() -> bool:
    return sys.stdout.isatty()


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="dp-lint", message="%(prog)s %(version)s")
def main() -> None:
    """dp-lint: find PyTorch model code that breaks Opacus' per-sample gradients."""


# --- check -------------------------------------------------------------------------


def parse_codes(values: Iterable[str], known: Iterable[str], option: str) -> set[str]:
    """Split comma-separated codes/prefixes and check each names at least one rule.

    `ALL` selects every code (it becomes the empty prefix).
    """
    known = sorted(known)
    prefixes = set()
    for value in values:
        for raw in value.split(","):
            code = raw.strip().upper()
            if not code:
                continue
            if code == "ALL":
                prefixes.add("")
                continue
            if not any(k.startswith(code) for k in known):
                raise CliError(
                    f"unknown rule code or prefix {raw.strip()!r} in {option}; "
                    f"known codes: {', '.join(known)}"
                )
            prefixes.add(code)
    return prefixes


def _codes_option(values: tuple[str, ...], known: Iterable[str], option: str) -> tuple[str, ...]:
    """`--select`-like values as written (upper-cased), each checked against the known codes."""
    from dp_lint.config import split_codes, unknown_codes

    codes = split_codes(values)
    known = sorted(known)
    for code in unknown_codes(codes, known):
        raise CliError(
            f"unknown rule code or prefix {code!r} in {option}; known codes: {', '.join(known)}"
        )
    return tuple(codes)


def _overrides(select, extend_select, ignore, exclude, extend_exclude, assume_batch_first, opacus_version):
    from dp_lint.config import Overrides

    known = catalogue.all_codes()
    return Overrides(
        select=_codes_option(select, known, "--select") if select else None,
        extend_select=_codes_option(extend_select, known, "--extend-select"),
        ignore=_codes_option(ignore, known, "--ignore"),
        exclude=tuple(p.strip() for v in exclude for p in v.split(",") if p.strip()) if exclude else None,
        extend_exclude=tuple(p.strip() for v in extend_exclude for p in v.split(",") if p.strip()),
        assume_batch_first=assume_batch_first,
        opacus_version=opacus_version,
    )


def _verify_run_options(prefix: str):
    from dp_lint.verify.command import run_options

    return run_options(prefix)


def _config_options(function):
    """Options shared by `check` and `config`: where the configuration comes from and what
    the command line overrides in it."""
    options = [
        click.option(
            "--config",
            "config_file",
            type=click.Path(path_type=Path, dir_okay=False),
            default=None,
            help="Read [tool.dp-lint] from this file (for every path) instead of the nearest pyproject.toml.",
        ),
        click.option(
            "--select",
            multiple=True,
            metavar="CODES",
            help="Only these rule codes or prefixes, replacing `select` (comma-separated, repeatable; ALL for every rule).",
        ),
        click.option(
            "--extend-select",
            multiple=True,
            metavar="CODES",
            help="Rule codes or prefixes to enable on top of `select`.",
        ),
        click.option(
            "--ignore",
            multiple=True,
            metavar="CODES",
            help="Skip these rule codes or prefixes (added to `ignore`; comma-separated, repeatable).",
        ),
        click.option(
            "--exclude",
            multiple=True,
            metavar="PATTERNS",
            help="Gitignore-style patterns of files and folders to skip, replacing `exclude` and its defaults.",
        ),
        click.option(
            "--extend-exclude",
            multiple=True,
            metavar="PATTERNS",
            help="Patterns to skip on top of `exclude`.",
        ),
        click.option(
            "--assume-batch-first/--no-assume-batch-first",
            default=None,
            help="The engine's batch_first when the project has no make_private/GradSampleModule call.",
        ),
        click.option("--opacus-version", metavar="VERSION", default=None, help="The Opacus version the project runs on."),
    ]
    for option in reversed(options):
        function = option(function)
    return function


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option(
    "--output-format",
    type=click.Choice(FORMATS),
    default=None,
    help="How to print findings [default: full on a terminal, concise otherwise].",
)
@_config_options
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
    "--verify",
    "verify",
    is_flag=True,
    help="Run the models involved in findings under Opacus (needs torch and opacus; user code runs in a "
         "child process) and add each finding's runtime verdict: confirmed: crash/silent, not confirmed: ok...",
)
@_verify_run_options("verify-")
def check(
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
) -> None:
    """Check PATHS (files or folders; default: the current folder; `-`: standard input)."""
    from dp_lint import runner
    from dp_lint.config import ConfigError, ConfigResolver

    with _report_internal_errors():
        overrides = _overrides(select, extend_select, ignore, exclude, extend_exclude, assume_batch_first, opacus_version)
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
            overrides=overrides,
            force_exclude=force_exclude,
            stdin_text=stdin_text,
            stdin_filename=stdin_filename,
        )
        try:
            resolver = ConfigResolver(config_file, overrides)
            with _progress(show_progress) as progress:
                run = runner.run(request, on_error=_warn_unreadable_folder, progress=progress, resolver=resolver)
        except ConfigError as error:
            raise CliError(str(error)) from None
        if not run.files and stdin_text is None:
            click.echo("warning: no Python files found under the given paths", err=True)
        for path, bad in run.malformed:
            from dp_lint.output import display_path

            click.echo(
                f"warning: {display_path(path)}:{bad.row}:{bad.column}: malformed suppression comment "
                f"`{bad.text}`, ignored; write `# dp-lint: ignore` or `# dp-lint: ignore[DPL001, ...]`",
                err=True,
            )
        if add_noqa:
            _add_noqa(run)
            return
        if verify:
            from dp_lint.verify.command import verify_check_findings

            verify_check_findings(run, paths, config_file, timeout=verify_timeout, device=verify_device,
                                  stdin=stdin_text is not None)

        to_file = output_file is not None
        color = not to_file and use_color(sys.stdout)
        if output_format is None:
            output_format = "full" if (_is_terminal() and not to_file) else "concise"
        sources = dict(run.texts) if stdin_text is not None else None
        if statistics:
            from dp_lint.ci_formats import statistics as format_statistics

            text = format_statistics(run.findings, output_format)
            if output_format in TEXT_FORMATS:
                text += summary_line(run.findings) + "\n"
        else:
            text = format_findings(run.findings, output_format, color=color, sources=sources, files=run.files)
            if output_format in TEXT_FORMATS:
                text += summary_line(run.findings) + "\n"
        if to_file:
            try:
                output_file.write_text(text, encoding="utf-8")
            except OSError as exc:
                raise CliError(f"cannot write {output_file}: {exc.strerror or exc}") from None
        else:
            click.echo(text, nl=False, color=color)
        for error in run.internal_errors:
            click.echo(
                f"error: dp-lint stopped analysing {error}. It was skipped and the rest was checked. "
                "This is a bug in dp-lint, not a finding in your code: please report it with the code "
                "that triggers it (DP_LINT_DEBUG=1 adds the traceback).",
                err=True,
            )
    if run.internal_errors:
        sys.exit(EXIT_ERROR)
    if run.findings and not exit_zero:
        sys.exit(EXIT_FINDINGS)


def _read_stdin() -> str:
    from dp_lint.source import SourceError, decode_source

    buffer = getattr(sys.stdin, "buffer", None)
    data = buffer.read() if buffer is not None else sys.stdin.read().encode("utf-8")
    try:
        return decode_source(data)
    except SourceError as error:
        raise CliError(f"cannot read standard input: {error.message}") from None


def _add_noqa(run) -> None:
    from dp_lint.output import display_path
    from dp_lint.suppressions import add_suppressions

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


def progress_wanted(flag: bool | None, environ=None, stdout=None, stderr=None) -> bool:
    """A progress bar only on a terminal: never in a pipe, a file or a CI log."""
    if flag is not None:
        return flag
    environ = os.environ if environ is None else environ
    if environ.get("CI"):
        return False
    streams = (stdout or sys.stdout, stderr or sys.stderr)
    return all(getattr(s, "isatty", lambda: False)() for s in streams)


@contextlib.contextmanager
def _progress(flag: bool | None):
    """A transient rich progress bar on standard error, started once there are enough files."""
    if not progress_wanted(flag):
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    console = Console(file=sys.stderr)
    bar = Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=console, transient=True,
    )
    tasks: dict[str, int] = {}
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
        bar.update(tasks[stage], completed=done + 1)

    try:
        yield report
    finally:
        if tasks:
            bar.stop()


def _load_config(config_file: Path | None, paths: tuple[Path, ...]):
    """The configuration of the first path (or the current folder): `--config FILE`, else
    the nearest pyproject.toml with [tool.dp-lint]."""
    from dp_lint.config import ConfigError, ConfigResolver

    start = Path(paths[0]) if paths and str(paths[0]) != "-" else Path.cwd()
    try:
        resolver = ConfigResolver(config_file)
        return resolver.for_path(start) if start.exists() or config_file else resolver.for_path(Path.cwd())
    except ConfigError as error:
        raise CliError(str(error)) from None


# --- config ------------------------------------------------------------------------


@main.command("config")
@click.argument("path", required=False, type=click.Path(path_type=Path))
@click.option(
    "--output-format", type=click.Choice(["toml", "json"]), default="toml", show_default=True,
)
@_config_options
def config_command(
    path: Path | None,
    output_format: str,
    config_file: Path | None,
    select: tuple[str, ...],
    extend_select: tuple[str, ...],
    ignore: tuple[str, ...],
    exclude: tuple[str, ...],
    extend_exclude: tuple[str, ...],
    assume_batch_first: bool | None,
    opacus_version: str | None,
) -> None:
    """Show the effective configuration for PATH (default: the current folder) and where
    each setting comes from."""
    from dp_lint.config import ConfigError, ConfigResolver, config_as_json, render_config

    with _report_internal_errors():
        target = Path(os.path.abspath(path or Path.cwd()))
        if not target.exists():
            raise CliError(f"path does not exist: {path}")
        overrides = _overrides(select, extend_select, ignore, exclude, extend_exclude, assume_batch_first, opacus_version)
        try:
            config = ConfigResolver(config_file, overrides).for_path(target)
        except ConfigError as error:
            raise CliError(str(error)) from None
        known = catalogue.all_codes()
        if output_format == "json":
            data = config_as_json(config, known)
            data["target"] = str(target)
            click.echo(json.dumps(data, indent=2))
        else:
            click.echo(render_config(config, known, target), nl=False)


def _warn_unreadable_folder(folder: Path, error: OSError) -> None:
    reason = error.strerror or str(error)
    click.echo(f"warning: cannot list folder {folder}: {reason}; skipped", err=True)


# --- rules -------------------------------------------------------------------------


def _rule_rows() -> list[dict]:
    rows = [
        {
            "code": code,
            "name": catalogue.ENGINE_CODES[code],
            "summary": doc["summary"],
            "fix": doc.get("fix", "none"),
        }
        for code, doc in ENGINE_CODE_DOCS.items()
    ]
    for entry in catalogue.load_catalogue():
        rows.append(
            {
                "code": entry.code,
                "name": entry.name,
                "summary": entry.rule.summary,
                "fix": entry.rule.fix_availability,
            }
        )
    return sorted(rows, key=lambda row: row["code"])


@main.command("rules")
@click.option("--output-format", type=click.Choice(["table", "json"]), default="table", show_default=True)
def rules_command(output_format: str) -> None:
    """List every rule: code, name, summary and whether it has a fix."""
    with _report_internal_errors():
        rows = _rule_rows()
    if output_format == "json":
        click.echo(json.dumps(rows, indent=2))
        return
    columns = ("code", "name", "summary", "fix")
    if _is_terminal():
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


# --- explain -----------------------------------------------------------------------


def _find_documentation(code_or_name: str) -> str | None:
    wanted = code_or_name.strip()
    for code, doc in ENGINE_CODE_DOCS.items():
        if wanted.upper() == code or wanted.lower() == catalogue.ENGINE_CODES[code]:
            return doc["documentation"]
    for entry in catalogue.load_catalogue():
        if wanted.upper() == entry.code or wanted.lower() == entry.name:
            return entry.documentation
    return None


@main.command()
@click.argument("code")
def explain(code: str) -> None:
    """Show the documentation of a rule, by CODE (DPL001) or name."""
    with _report_internal_errors():
        documentation = _find_documentation(code)
        if documentation is None:
            known = ", ".join(sorted(catalogue.all_codes()))
            raise CliError(f"unknown rule {code!r}; known codes: {known}")
    if _is_terminal():
        from rich.console import Console
        from rich.markdown import Markdown

        Console().print(Markdown(documentation))
    else:
        click.echo(documentation, nl=not documentation.endswith("\n"))


# `dp-lint fix` lives in its own module; it shares the configuration options of `check`.
from dp_lint.cli_fix import make_fix_command  # noqa: E402

main.add_command(make_fix_command(_config_options, sys.modules[__name__]))

# `dp-lint verify` (runs models under Opacus in a child process) lives in dp_lint/verify/.
from dp_lint.verify.command import verify_command as _verify_command  # noqa: E402

main.add_command(_verify_command)

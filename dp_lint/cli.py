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
from dp_lint.output import FORMATS, format_findings, summary_line, use_color

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
    }
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


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option(
    "--output-format",
    type=click.Choice(FORMATS),
    default=None,
    help="How to print findings [default: full on a terminal, concise otherwise].",
)
@click.option(
    "--select",
    multiple=True,
    metavar="CODES",
    help="Only these rule codes or prefixes (comma-separated, repeatable; ALL for every rule).",
)
@click.option(
    "--ignore",
    multiple=True,
    metavar="CODES",
    help="Skip these rule codes or prefixes (comma-separated, repeatable).",
)
@click.option("--exit-zero", is_flag=True, help="Exit with status 0 even when there are findings.")
@click.option(
    "--config",
    "config_file",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Read [tool.dp-lint] from this file instead of the nearest pyproject.toml.",
)
def check(
    paths: tuple[Path, ...],
    output_format: str | None,
    select: tuple[str, ...],
    ignore: tuple[str, ...],
    exit_zero: bool,
    config_file: Path | None,
) -> None:
    """Check PATHS (files or folders; default: the current folder)."""
    with _report_internal_errors():
        config = _load_config(config_file, paths)
        known = catalogue.all_codes()
        selected = parse_codes(select, known, "--select") if select else None
        ignored = parse_codes(ignore, known, "--ignore")
        files = discover(list(paths) or ["."], on_error=_warn_unreadable_folder)
        if not files:
            click.echo("warning: no Python files found under the given paths", err=True)

        from dp_lint import engine  # imported late: `rules` and `explain` don't need it

        result = engine.check_files(files, select=selected, ignore=ignored, config=config)
        output_format = output_format or ("full" if _is_terminal() else "concise")
        color = use_color(sys.stdout)
        click.echo(format_findings(result.findings, output_format, color=color), nl=False, color=color)
        if output_format in ("full", "concise"):
            click.echo(summary_line(result.findings))
        for error in result.internal_errors:
            click.echo(
                f"error: dp-lint stopped analysing {error}. It was skipped and the rest was checked. "
                "This is a bug in dp-lint, not a finding in your code: please report it with the code "
                "that triggers it (DP_LINT_DEBUG=1 adds the traceback).",
                err=True,
            )
    if result.internal_errors:
        sys.exit(EXIT_ERROR)
    if result.findings and not exit_zero:
        sys.exit(EXIT_FINDINGS)


def _load_config(config_file: Path | None, paths: tuple[Path, ...]):
    """`--config FILE`, else the pyproject.toml nearest to the first path (or the current folder)."""
    from dp_lint.config import ConfigError, find_pyproject, load_config

    if config_file is not None and not config_file.is_file():
        raise CliError(f"configuration file {config_file} does not exist")
    start = Path(paths[0]) if paths else Path.cwd()
    path = config_file or (find_pyproject(start) if start.exists() else None)
    try:
        return load_config(path)
    except ConfigError as error:
        raise CliError(str(error)) from None


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
            "fix": "none",
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
    return rows


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

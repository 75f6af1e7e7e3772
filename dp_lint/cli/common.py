"""What every command shares: exit codes, error reporting, configuration and verify options."""

from __future__ import annotations

import contextlib
import os
import sys
import traceback
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TypeVar

import click

from dp_lint import __version__
from dp_lint.catalogue.loader import all_codes
from dp_lint.config.settings import (
    Config,
    ConfigError,
    ConfigResolver,
    Overrides,
    code_suggestions,
    split_codes,
    unknown_codes,
)
from dp_lint.core.failures import AnalysisFailure
from dp_lint.files.discovery import UsageError

EXIT_FINDINGS = 1
EXIT_ERROR = 2
EXIT_BROKEN_PIPE = 141  # what a shell reports for a process killed by SIGPIPE

F = TypeVar("F", bound=Callable[..., object])


class CliError(click.ClickException):
    """A usage error reported as `Error: ...` with exit status 2."""

    exit_code = EXIT_ERROR


@contextlib.contextmanager
def report_internal_errors() -> Iterator[None]:
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
    except Exception as exc:
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


def report_failures(failures: Iterable[AnalysisFailure]) -> None:
    """One `error:` line per file, class or rule an analysis gave up on (the command then exits 2)."""
    for failure in failures:
        if failure.limit:
            click.echo(f"error: dp-lint did not analyse {failure}. Findings in it, if any, are not reported "
                       "(exclude the file to silence this error).", err=True)
        else:
            click.echo(
                f"error: dp-lint stopped analysing {failure}. It was skipped and the rest was checked. "
                "This is a bug in dp-lint, not a finding in your code: please report it with the code "
                "that triggers it (DP_LINT_DEBUG=1 adds the traceback).",
                err=True,
            )


def is_terminal() -> bool:
    return sys.stdout.isatty()


def warn_unreadable_folder(folder: Path, error: OSError) -> None:
    reason = error.strerror or str(error)
    click.echo(f"warning: cannot list folder {folder}: {reason}; skipped", err=True)


# -- configuration ----------------------------------------------------------------------


def codes_option(values: tuple[str, ...], known: Iterable[str], option: str) -> tuple[str, ...]:
    """`--select`-like values as written (upper-cased), each checked against the known codes."""
    codes = split_codes(values)
    known = sorted(known)
    for code in unknown_codes(codes, known):
        raise CliError(
            f"unknown rule code or prefix {code!r} in {option}{code_suggestions([code], known)}; "
            f"known codes: {', '.join(known)}"
        )
    return tuple(codes)


def _patterns(values: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(p.strip() for v in values for p in v.split(",") if p.strip())


def overrides(select: tuple[str, ...], extend_select: tuple[str, ...], ignore: tuple[str, ...],
              exclude: tuple[str, ...], extend_exclude: tuple[str, ...], assume_batch_first: bool | None,
              opacus_version: str | None) -> Overrides:
    """The command line's configuration options, checked against the known codes."""
    known = all_codes()
    return Overrides(
        select=codes_option(select, known, "--select") if select else None,
        extend_select=codes_option(extend_select, known, "--extend-select"),
        ignore=codes_option(ignore, known, "--ignore"),
        exclude=_patterns(exclude) if exclude else None,
        extend_exclude=_patterns(extend_exclude),
        assume_batch_first=assume_batch_first,
        opacus_version=opacus_version,
    )


def resolver(config_file: Path | None, overrides: Overrides | None = None) -> ConfigResolver:
    """The per-folder configuration of a run, with every code of the catalogue known."""
    try:
        return ConfigResolver(config_file, overrides, known=all_codes())
    except ConfigError as error:
        raise CliError(str(error)) from None


def load_config(config_file: Path | None, paths: tuple[Path, ...]) -> Config:
    """The configuration of the first path (or the current folder): `--config FILE`, else
    the nearest pyproject.toml with [tool.dp-lint]."""
    start = Path(paths[0]) if paths and str(paths[0]) != "-" else Path.cwd()
    try:
        configs = resolver(config_file)
        return configs.for_path(start) if start.exists() or config_file else configs.for_path(Path.cwd())
    except ConfigError as error:
        raise CliError(str(error)) from None


def config_options(function: F) -> F:
    """Options shared by `check`, `fix` and `config`: where the configuration comes from and
    what the command line overrides in it."""
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


def run_options(prefix: str = "") -> Callable[[F], F]:
    """`--timeout`/`--device` of `verify`; `check --verify` and `fix --verify` take them as
    `--verify-timeout`/`--verify-device` (prefix "verify-")."""
    def sentence(text: str) -> str:
        return f"With --verify: {text}" if prefix else text[0].upper() + text[1:]

    def decorate(function: F) -> F:
        function = click.option(
            f"--{prefix}device",
            type=click.Choice(["auto", "cpu", "cuda"]),
            default="auto",
            show_default=True,
            help=sentence("where to run the models (auto: CUDA when torch sees a GPU)."),
        )(function)
        return click.option(
            f"--{prefix}timeout",
            type=click.FloatRange(min=0, min_open=True),
            default=120.0,
            show_default=True,
            metavar="SECONDS",
            help=sentence("time limit for each model; a model still running is killed "
                          "(with every process it started)."),
        )(function)

    return decorate

"""One `check` run: configuration, discovery, the engine, then per-file selection,
`per-file-ignores` and inline suppressions (with DPL900 for unused ones).

Commands that act on findings (`check`, `fix`) should go through `run` (or at least
`finish`) so that configuration and suppressions mean the same thing everywhere.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from dp_lint.analysis.project import Project
from dp_lint.catalogue import loader as catalogue
from dp_lint.config.settings import Config, ConfigResolver, Overrides
from dp_lint.core.findings import Finding
from dp_lint.files.discovery import discover, is_excluded
from dp_lint.files.source import module_text
from dp_lint.lint import check as engine
from dp_lint.lint.suppressions import CODE as UNUSED_SUPPRESSION
from dp_lint.lint.suppressions import Malformed, apply_suppressions

STDIN = "-"


@dataclass
class Request:
    paths: Sequence[str | os.PathLike] = ()
    config_file: Path | None = None
    overrides: Overrides | None = None
    force_exclude: bool = False
    respect_gitignore: bool = True
    # `check -`: the text read from standard input and the name it stands for.
    stdin_text: str | None = None
    stdin_filename: str | os.PathLike | None = None


@dataclass
class Run:
    findings: list[Finding]
    files: list[Path]
    internal_errors: list[str]
    resolver: ConfigResolver
    project_config: Config
    suppressed: int = 0
    malformed: list[tuple[Path, Malformed]] = field(default_factory=list)
    # The text of every checked file that could be read and decoded (standard input included),
    # for code frames: nothing is read twice.
    texts: dict[Path, str] = field(default_factory=dict)
    # The project the rules ran on, for the steps after the check (`check --verify`, `fix --verify`).
    project: Project | None = None


class Selection:
    """Which codes apply to each file: its folder's configuration, then `per-file-ignores`."""

    def __init__(self, resolver: ConfigResolver, known: Sequence[str]):
        self.resolver = resolver
        self.known = sorted(known)
        self._by_config: dict[int, frozenset[str]] = {}
        self._by_file: dict[Path, frozenset[str]] = {}

    def config_enabled(self, config: Config) -> frozenset[str]:
        key = id(config)
        if key not in self._by_config:
            self._by_config[key] = config.enabled_codes(self.known)
        return self._by_config[key]

    def enabled_for(self, path: Path) -> frozenset[str]:
        if path not in self._by_file:
            config = self.resolver.for_path(path)
            self._by_file[path] = self.config_enabled(config) - config.ignored_for(path, self.known)
        return self._by_file[path]


def project_path(request: Request) -> Path:
    """The path whose configuration gives the analysis settings (the first path)."""
    if request.stdin_text is not None:
        return Path(os.path.abspath(request.stdin_filename or STDIN))
    return Path(os.path.abspath(request.paths[0])) if request.paths else Path.cwd()


@dataclass
class Prepared:
    """What a run checks: the files, the settings, and which codes each file enables."""

    files: list[Path]
    texts: dict[Path, str]  # files not read from disk (standard input)
    project_config: Config
    selection: Selection
    selected: set[str]


def prepare(
    request: Request,
    *,
    on_error: Callable[[Path, OSError], None] | None = None,
    resolver: ConfigResolver | None = None,
) -> Prepared:
    resolver = resolver or ConfigResolver(request.config_file, request.overrides, known=catalogue.all_codes())
    texts: dict[Path, str] = {}
    if request.stdin_text is not None:
        path = Path(os.path.abspath(request.stdin_filename or STDIN))
        excluded = (
            request.force_exclude
            and request.stdin_filename is not None
            and is_excluded(path, resolver, request.respect_gitignore)
        )
        files = [] if excluded else [path]
        texts = {path: request.stdin_text} if files else {}
    else:
        files = discover(
            list(request.paths) or ["."],
            on_error=on_error,
            resolver=resolver,
            force_exclude=request.force_exclude,
            respect_gitignore=request.respect_gitignore,
        )
    project_config = resolver.for_path(project_path(request))
    selection = Selection(resolver, sorted(catalogue.all_codes()))
    selected: set[str] = set()
    for path in files:
        selected |= selection.config_enabled(resolver.for_path(path))
    return Prepared(files, texts, project_config, selection, selected)


def analyse(
    prepared: Prepared,
    texts: dict[Path, str] | None = None,
    progress: Callable[[str, int, int], None] | None = None,
) -> Run:
    """Check the prepared files (`texts`: current in-memory text of some of them)."""
    texts = {**prepared.texts, **(texts or {})}
    result = engine.check_files(prepared.files, select=prepared.selected, config=prepared.project_config,
                                texts=texts or None, progress=progress)
    return finish(result.findings, prepared.files, prepared.selection, texts={**texts, **result.texts},
                  internal_errors=result.internal_errors, project_config=prepared.project_config,
                  project=result.project)


def run(
    request: Request,
    *,
    on_error: Callable[[Path, OSError], None] | None = None,
    progress: Callable[[str, int, int], None] | None = None,
    resolver: ConfigResolver | None = None,
) -> Run:
    return analyse(prepare(request, on_error=on_error, resolver=resolver), progress=progress)


def finish(
    findings: Sequence[Finding],
    files: Sequence[Path],
    selection: Selection,
    *,
    texts: dict[Path, str] | None = None,
    internal_errors: Sequence[str] = (),
    project_config: Config | None = None,
    project: Project | None = None,
) -> Run:
    """Per-file selection, `per-file-ignores`, suppressions and DPL900 on the engine's findings.

    `texts` holds the text of each checked file as the engine decoded it (`CheckResult.texts`);
    a file without one is not searched for suppressions. Unused suppressions are not reported
    after an internal error (a rule that crashed may have had findings that a suppression was for).
    """
    texts = dict(texts or {})
    unparsed = {f.path for f in findings if f.code == "DPL000"}
    kept = [f for f in findings if f.code in selection.enabled_for(f.path)]
    checked = set(files)
    # Suppressions are comments of the code rules saw: a notebook's virtual module.
    modules = {p: module_text(p, t) for p, t in texts.items() if p in checked}
    result = apply_suppressions(
        kept,
        {p: t for p, t in modules.items() if t is not None},
        enabled_for=selection.enabled_for,
        all_codes=selection.known,
        unparsed=unparsed,
        report_unused=not internal_errors,
    )
    return Run(
        findings=result.findings,
        files=list(files),
        internal_errors=list(internal_errors),
        resolver=selection.resolver,
        project_config=project_config or Config(),
        suppressed=result.suppressed,
        malformed=result.malformed,
        texts=texts,
        project=project,
    )


__all__ = ["Request", "Run", "Prepared", "Selection", "prepare", "analyse", "run", "finish", "UNUSED_SUPPRESSION", "STDIN"]

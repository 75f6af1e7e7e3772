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
from dp_lint.core.failures import AnalysisFailure
from dp_lint.core.findings import Finding
from dp_lint.files.discovery import discover, is_excluded, sibling_files
from dp_lint.files.projects import ProjectRoots
from dp_lint.files.source import SourceError, decode_file, module_text
from dp_lint.lint import cache as result_cache
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
    # Reuse and store results in the project's `.dp_lint_cache/` (dp_lint.lint.cache).
    cache: bool = False


@dataclass
class Run:
    findings: list[Finding]
    files: list[Path]
    internal_errors: list[AnalysisFailure]
    resolver: ConfigResolver
    projects: list[ProjectFiles] = field(default_factory=list)
    suppressed: int = 0
    malformed: list[tuple[Path, Malformed]] = field(default_factory=list)
    # The text of every checked file that could be read and decoded (standard input included),
    # for code frames: nothing is read twice.
    texts: dict[Path, str] = field(default_factory=dict)

    @property
    def project(self) -> Project | None:
        """The project the rules ran on, for the steps after the check (`check --verify`, `fix
        --verify`): the first project's when the files belong to several."""
        return next((p.analysed for p in self.projects if p.analysed is not None), None)

    @property
    def project_config(self) -> Config:
        """The analysis settings of the first project (the defaults when nothing was checked)."""
        return self.projects[0].config if self.projects else Config()


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
    """The first path (`dp-lint verify` reads its targets from that path's configuration);
    the analysis settings of a check come from each project's root instead (`Prepared.projects`)."""
    if request.stdin_text is not None:
        return Path(os.path.abspath(request.stdin_filename or STDIN))
    return Path(os.path.abspath(request.paths[0])) if request.paths else Path.cwd()


@dataclass
class ProjectFiles:
    """One project of a run (see dp_lint.files.projects): its root, the analysis settings
    of the configuration there, the files asked for in it, and its other files, which are
    analysed for context but never reported on."""

    root: Path
    config: Config
    files: list[Path]
    context: list[Path]
    selected: set[str]  # codes some of `files` enable
    analysed: Project | None = None  # the Project the rules ran on, once the run is done


@dataclass
class Prepared:
    """What a run checks: the files, their projects, and which codes each file enables."""

    files: list[Path]
    texts: dict[Path, str]  # files not read from disk (standard input)
    projects: list[ProjectFiles]
    selection: Selection
    selected: set[str]
    cache: bool = False

    @property
    def project_config(self) -> Config:
        """The analysis settings of the first project (the defaults when nothing is checked)."""
        return self.projects[0].config if self.projects else Config()


def prepare(
    request: Request,
    *,
    on_error: Callable[[Path, OSError], None] | None = None,
    resolver: ConfigResolver | None = None,
) -> Prepared:
    resolver = resolver or ConfigResolver(request.config_file, request.overrides, known=catalogue.all_codes())
    texts: dict[Path, str] = {}
    named_folders: list[Path] = []
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
        given = list(request.paths) or ["."]
        files = discover(
            given,
            on_error=on_error,
            resolver=resolver,
            force_exclude=request.force_exclude,
            respect_gitignore=request.respect_gitignore,
        )
        named_folders = [Path(os.path.abspath(p)) for p in given if os.path.isdir(p)]
    selection = Selection(resolver, sorted(catalogue.all_codes()))
    # Without --stdin-filename the text has no place in any project: it is analysed alone.
    alone = request.stdin_text is not None and request.stdin_filename is None
    projects = _projects(files, named_folders, resolver, selection, request.respect_gitignore, alone=alone)
    selected: set[str] = set()
    for project in projects:
        selected |= project.selected
    return Prepared(files, texts, projects, selection, selected,
                    cache=request.cache and request.stdin_text is None)


def _projects(files: list[Path], named_folders: list[Path], resolver: ConfigResolver, selection: Selection,
              respect_gitignore: bool, *, alone: bool = False) -> list[ProjectFiles]:
    """Group the files asked for by project root and find each project's other files."""
    roots = ProjectRoots(named_folders)
    by_root: dict[Path, list[Path]] = {}
    for path in files:
        root = path.parent if alone else roots.root_of(path)
        by_root.setdefault(root, []).append(path)
    asked = {os.path.realpath(p) for p in files}
    projects = []
    for root in sorted(by_root):
        context: list[Path] = []
        # A root at or below a folder named on the command line was walked already: all
        # its files are asked for.
        walked = alone or any(root == folder or folder in root.parents for folder in named_folders)
        if walked or not root.is_dir():
            candidates: list[Path] = []
        elif roots.marked_root(root) is not None:
            candidates = [p for p in discover([root], resolver=resolver, respect_gitignore=respect_gitignore)
                          if roots.belongs_to(p, root)]
        else:
            # No project marker: the file's folder, not below it (that could be a whole home folder).
            candidates = sibling_files(root, resolver=resolver, respect_gitignore=respect_gitignore)
        context = [p for p in candidates if os.path.realpath(p) not in asked]
        selected: set[str] = set()
        for path in by_root[root]:
            selected |= selection.config_enabled(resolver.for_path(path))
        projects.append(ProjectFiles(root, resolver.for_folder(root), by_root[root], context, selected))
    return projects


def analyse(
    prepared: Prepared,
    texts: dict[Path, str] | None = None,
    progress: Callable[[str, int, int], None] | None = None,
) -> Run:
    """Check the prepared files (`texts`: current in-memory text of some of them), each
    project with its own analysis settings."""
    texts = {**prepared.texts, **(texts or {})}
    findings: list[Finding] = []
    internal_errors: list[AnalysisFailure] = []
    decoded: dict[Path, str] = dict(texts)
    use_cache = prepared.cache and not texts
    for project in prepared.projects:
        cached = _cached(project, prepared.selection) if use_cache else None
        read: dict[Path, str] = {}
        if cached is not None:
            store, digest, entry, read = cached
            if entry is not None:
                findings.extend(entry.findings)
                decoded.update({p: read[p] for p in entry.decoded if p in read})
                internal_errors.extend(e for e in entry.internal_errors if e not in internal_errors)
                continue
        # The files read for the cache's key are not read again.
        result = engine.check_files(project.files, select=project.selected, config=project.config,
                                    texts=read or texts or None, progress=progress, context=project.context)
        project.analysed = result.project
        findings.extend(result.findings)
        decoded.update(result.texts)
        internal_errors.extend(e for e in result.internal_errors if e not in internal_errors)
        if cached is not None:
            store.put(digest, result_cache.Entry(list(result.findings), list(result.internal_errors),
                                                 [p for p in project.files if p in result.texts]))
    findings.sort(key=Finding.sort_key)
    return finish(findings, prepared.files, prepared.selection, texts=decoded,
                  internal_errors=internal_errors, projects=prepared.projects)


def _cached(project: ProjectFiles, selection: Selection
            ) -> tuple[result_cache.ResultCache, str, result_cache.Entry | None, dict[Path, str]] | None:
    """The cache of a project group, the digest of its inputs, the entry stored under it and
    the text of each of its files that could be read and decoded;
    None when the group is not cached (a notebook in it, or no usable cache folder)."""
    members = [*project.files, *project.context]
    if any(p.suffix != ".py" for p in members):
        return None
    folder = project.config.cache_dir or project.root / result_cache.FOLDER
    if not folder.is_absolute():
        folder = project.root / folder
    store = result_cache.ResultCache(folder)
    if not store.usable:
        return None
    contents: list[tuple[Path, bytes | None]] = []
    read: dict[Path, str] = {}
    for path in members:
        try:
            data = path.read_bytes()
        except OSError:
            contents.append((path, None))
            continue
        contents.append((path, data))
        try:
            read[path] = decode_file(path, data)
        except SourceError:
            pass
    configs = [f"{p}\0{result_cache.config_text(selection.resolver.for_path(p))}" for p in members]
    configs.append(result_cache.config_text(project.config))
    extra = f"files={sorted(map(str, project.files))}"
    digest = result_cache.key(contents, configs, project.selected, extra)
    return store, digest, store.get(digest), read


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
    internal_errors: Sequence[AnalysisFailure] = (),
    projects: Sequence[ProjectFiles] = (),
) -> Run:
    """Per-file selection, `per-file-ignores`, suppressions and DPL900 on the engine's findings.

    `texts` holds the text of each checked file as the engine decoded it (`CheckResult.texts`);
    a file without one is not searched for suppressions. Unused suppressions are not reported
    after an internal error (a rule that crashed may have had findings that a suppression was for),
    nor in a file dp-lint did not analyse (a limit: its suppressions are not judged).
    """
    texts = dict(texts or {})
    unparsed = {f.path for f in findings if f.code == "DPL000"}
    unparsed |= {f.path for f in internal_errors if f.limit and f.path is not None}
    bugs = [f for f in internal_errors if not f.limit]
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
        report_unused=not bugs,
    )
    return Run(
        findings=result.findings,
        files=list(files),
        internal_errors=list(internal_errors),
        resolver=selection.resolver,
        projects=list(projects),
        suppressed=result.suppressed,
        malformed=result.malformed,
        texts=texts,
    )


__all__ = ["Request", "Run", "Prepared", "ProjectFiles", "Selection", "prepare", "analyse", "run", "finish", "UNUSED_SUPPRESSION", "STDIN"]

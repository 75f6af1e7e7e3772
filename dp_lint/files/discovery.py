"""Which files `check` looks at, and the dotted module name of each.

Folders are walked for the files matching `include` (default: `*.py` and `*.ipynb`
notebooks) and `extend-include`. An entry is skipped when it matches the `exclude` /
`extend-exclude` patterns of its folder's configuration (gitignore syntax, relative to
the configuration file's folder; the default list names tooling, cache and build
folders), when a `.gitignore` of its git repository ignores it (nested `.gitignore`
files and `.git/info/exclude` included, matched with pathspec), or when it is a
virtual environment (a folder holding `pyvenv.cfg`).

Paths named on the command line are always checked, whatever their extension (like
ruff), unless `force_exclude` is set (what pre-commit needs: it passes every staged
file by name). Inside a folder named on the command line that is itself excluded,
patterns are matched as if that folder were the root, so `dp-lint check build/`
checks `build/` but still skips `build/__pycache__/`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from dp_lint.config.settings import Config, ConfigResolver
from dp_lint.files.notebooks import is_notebook


class UsageError(Exception):
    """A mistake in what the user asked for (the CLI exits with status 2)."""


def is_virtualenv(path: Path) -> bool:
    # Any virtual environment, whatever it is called (`env`, `.env`, `py311`...).
    return (path / "pyvenv.cfg").is_file()


def _spec(lines: Iterable[str]):
    import pathspec

    return pathspec.GitIgnoreSpec.from_lines(list(lines))


class _Rules:
    """One set of patterns (a `.gitignore` file or a configuration's exclusions) and its base folder."""

    __slots__ = ("base", "spec", "label")

    def __init__(self, base: Path, spec, label: str):
        self.base = base
        self.spec = spec
        self.label = label

    def decision(self, path: Path, is_dir: bool, base: Path | None = None) -> bool | None:
        """True: excluded, False: re-included (`!pattern`), None: no pattern matches."""
        try:
            relative = path.relative_to(base or self.base).as_posix()
        except ValueError:
            return None
        if relative in ("", "."):
            return None
        if is_dir:
            relative += "/"
        return self.spec.check_file(relative).include


class Exclusions:
    """Decides what is excluded; `.gitignore` files and configurations are read once per folder."""

    def __init__(self, resolver: ConfigResolver | None = None, respect_gitignore: bool = True):
        self.resolver = resolver
        self.respect_gitignore = respect_gitignore
        self._default = Config()
        self._config_rules: dict[tuple[int, Path], _Rules | None] = {}
        self._include_specs: dict[int, Any] = {}
        self._gitignores: dict[Path, tuple[_Rules, ...]] = {}
        self._repo_roots: dict[Path, Path | None] = {}

    # -- configuration -------------------------------------------------------------

    def config_for(self, folder: Path) -> Config:
        return self.resolver.for_folder(folder) if self.resolver is not None else self._default

    def _rules_of(self, config: Config, fallback_base: Path) -> _Rules | None:
        base = config.root or fallback_base
        key = (id(config), base)
        if key not in self._config_rules:
            patterns = config.exclude_patterns()
            label = f"exclude of {config.path}" if config.path else "default exclude"
            self._config_rules[key] = _Rules(base, _spec(patterns), label) if patterns else None
        return self._config_rules[key]

    def included(self, path: Path, walk: _Walk) -> bool:
        """Does a file met while walking match its configuration's `include`/`extend-include`?"""
        config = self.config_for(path.parent)
        key = id(config)
        if key not in self._include_specs:
            self._include_specs[key] = _spec(config.include_patterns())
        spec = self._include_specs[key]
        base = config.root or walk.root
        try:
            relative = path.relative_to(base).as_posix()
        except ValueError:
            relative = path.name
        return bool(spec.match_file(relative))

    # -- git -------------------------------------------------------------------------

    def repo_root(self, folder: Path) -> Path | None:
        if folder in self._repo_roots:
            return self._repo_roots[folder]
        if os.path.lexists(folder / ".git"):
            root = folder
        elif folder.parent == folder:
            root = None
        else:
            root = self.repo_root(folder.parent)
        self._repo_roots[folder] = root
        return root

    def gitignore_rules(self, folder: Path) -> tuple[_Rules, ...]:
        """`.git/info/exclude` and every `.gitignore` from the repository root down to `folder`."""
        if not self.respect_gitignore:
            return ()
        if folder in self._gitignores:
            return self._gitignores[folder]
        root = self.repo_root(folder)
        if root is None:
            rules: tuple[_Rules, ...] = ()
        else:
            if folder == root:
                rules = ()
                info = root / ".git" / "info" / "exclude"
                rules += self._read_ignore_file(info, root)
            else:
                rules = self.gitignore_rules(folder.parent)
            rules += self._read_ignore_file(folder / ".gitignore", folder)
        self._gitignores[folder] = rules
        return rules

    @staticmethod
    def _read_ignore_file(path: Path, base: Path) -> tuple[_Rules, ...]:
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ()
        try:
            return (_Rules(base, _spec(text.splitlines()), str(path)),)
        except ValueError:
            # A pattern git itself would ignore: keep the valid lines.
            valid = []
            for line in text.splitlines():
                try:
                    _spec([line])
                except ValueError:
                    continue
                valid.append(line)
            return (_Rules(base, _spec(valid), str(path)),)

    # -- decisions -------------------------------------------------------------------

    def entry_excluded(self, path: Path, is_dir: bool, walk: _Walk) -> bool:
        """An entry met while walking (its parent folder was not excluded)."""
        folder = path.parent
        if is_dir and (path.name == ".git" or is_virtualenv(path)):
            return True
        rules = self._rules_of(self.config_for(folder), walk.root)
        if rules is not None and rules.decision(path, is_dir, walk.base_for(rules)):
            return True
        for ignore in reversed(self.gitignore_rules(folder)):
            decision = ignore.decision(path, is_dir, walk.base_for(ignore))
            if decision is not None:
                return decision
        return False

    def explicitly_excluded(self, path: Path) -> bool:
        """For --force-exclude: would this path (or a folder above it) be skipped by a walk?"""
        is_dir = path.is_dir()
        config = self.config_for(path.parent)
        # Without a configuration file, patterns are relative to the working folder.
        cwd = Path.cwd()
        fallback = cwd if cwd in path.parents else path.parent
        rules = self._rules_of(config, fallback)
        if rules is not None and rules.decision(path, is_dir):
            return True
        if is_dir and is_virtualenv(path):
            return True
        root = self.repo_root(path.parent)
        if root is None or not self.respect_gitignore:
            return False
        # Git skips everything below an ignored folder: check each level from the root.
        try:
            parts = path.relative_to(root).parts
        except ValueError:
            return False
        current = root
        for index, part in enumerate(parts):
            child = current / part
            child_is_dir = index < len(parts) - 1 or is_dir
            for ignore in reversed(self.gitignore_rules(current)):
                decision = ignore.decision(child, child_is_dir)
                if decision is not None:
                    if decision:
                        return True
                    break
            current = child
        return False


class _Walk:
    """One folder named on the command line. When that folder is itself excluded by a set of
    patterns, those patterns are matched relative to it (it was asked for explicitly)."""

    def __init__(self, root: Path):
        self.root = root
        self._bases: dict[int, Path | None] = {}

    def base_for(self, rules: _Rules) -> Path | None:
        key = id(rules)
        if key not in self._bases:
            base = None
            if rules.decision(self.root, True):
                base = self.root
            self._bases[key] = base
        return self._bases[key]


def discover(
    paths: Sequence[str | os.PathLike],
    on_error: Callable[[Path, OSError], None] | None = None,
    *,
    resolver: ConfigResolver | None = None,
    force_exclude: bool = False,
    respect_gitignore: bool = True,
) -> list[Path]:
    """The files to check under `paths`, absolute, sorted and without duplicates.

    Raises `UsageError` when a path does not exist. `on_error` is told about folders
    that cannot be listed (they are skipped); without it they are skipped silently.
    `resolver` gives each folder's configuration (its `exclude` patterns); without one
    the default exclusions apply.
    """
    missing = [str(p) for p in paths if not os.path.lexists(p)]
    if missing:
        listed = ", ".join(missing)
        noun = "path does" if len(missing) == 1 else "paths do"
        raise UsageError(f"{noun} not exist: {listed}")

    exclusions = Exclusions(resolver, respect_gitignore)
    candidates: list[Path] = []
    for given in paths:
        # abspath normalises `./a.py` and `a.py` alike without resolving symlinks,
        # so reported paths stay the ones the user sees in the tree.
        path = Path(os.path.abspath(given))
        if force_exclude and exclusions.explicitly_excluded(path):
            continue
        if path.is_dir():
            candidates.extend(_walk(path, exclusions, on_error))
        else:
            candidates.append(path)
    return _deduplicate(candidates)


def sibling_files(folder: Path, *, resolver: ConfigResolver | None = None, respect_gitignore: bool = True) -> list[Path]:
    """The `*.py` files directly in `folder` that a walk would check (for a file's context
    when its project has no marker)."""
    exclusions = Exclusions(resolver, respect_gitignore)
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return []
    found = [
        folder / entry.name for entry in entries
        if entry.name.endswith(".py") and not _is_dir(entry)
        and not exclusions.explicitly_excluded(folder / entry.name)
    ]
    return _deduplicate(found)


def is_excluded(path: str | os.PathLike, resolver: ConfigResolver | None = None,
                respect_gitignore: bool = True) -> bool:
    """Would `--force-exclude` drop `path` (used for `--stdin-filename`)?"""
    return Exclusions(resolver, respect_gitignore).explicitly_excluded(Path(os.path.abspath(path)))


def _walk(root: Path, exclusions: Exclusions, on_error: Callable[[Path, OSError], None] | None) -> Iterable[Path]:
    # Symlinked folders are followed, but each real folder is visited once, which
    # also stops symlink loops.
    walk = _Walk(root)
    visited: set[str] = set()
    stack = [root]
    while stack:
        folder = stack.pop()
        real = os.path.realpath(folder)
        if real in visited:
            continue
        visited.add(real)
        try:
            entries = list(os.scandir(folder))
        except OSError as exc:
            if on_error is not None:
                on_error(folder, exc)
            continue
        for entry in entries:
            path = folder / entry.name
            if _is_dir(entry):
                if not exclusions.entry_excluded(path, True, walk):
                    stack.append(path)
            elif exclusions.included(path, walk) and not exclusions.entry_excluded(path, False, walk):
                yield path


def _is_dir(entry: os.DirEntry) -> bool:
    try:
        return entry.is_dir()  # follows symlinks
    except OSError:
        return False


def _deduplicate(candidates: Iterable[Path]) -> list[Path]:
    """Sort, and keep the first path of each real file (two links to one file are one file)."""
    seen: set[str] = set()
    unique = []
    for path in sorted(set(candidates)):
        real = os.path.realpath(path)
        if real not in seen:
            seen.add(real)
            unique.append(path)
    return unique


def module_name_for(path: str | os.PathLike) -> str:
    """The dotted name Python would import `path` as.

    Walks up while the parent folders are packages (hold `__init__.py`):
    `proj/pkg/models/net.py` -> `pkg.models.net`, `proj/pkg/__init__.py` -> `pkg`,
    a lone script -> its stem.
    """
    path = Path(os.path.abspath(path))
    if is_notebook(path):
        return notebook_module_name(path)
    parts = [] if path.stem == "__init__" else [path.stem]
    folder = path.parent
    while (folder / "__init__.py").is_file() and folder.name.isidentifier():
        parts.append(folder.name)
        if folder.parent == folder:
            break
        folder = folder.parent
    if not parts:  # an `__init__.py` whose own folder is not a valid package name
        return path.parent.name or path.stem
    return ".".join(reversed(parts))


def notebook_module_name(path: Path) -> str:
    """A notebook is a module named after its stem; nothing can import it. When a module of
    that name sits next to it (`train.py` paired with `train.ipynb` by jupytext), the
    notebook's name is one no import can spell, so `import train` still means the file."""
    stem = path.stem.replace(".", "_")  # a dot would read as a package
    if (path.parent / f"{stem}.py").is_file() or (path.parent / stem / "__init__.py").is_file():
        return f"{stem}-ipynb"
    return stem

"""Which files `check` looks at, and the dotted module name of each.

Files named on the command line are always checked, whatever their extension (like
ruff). Directories are walked for `*.py`, skipping folders that hold tooling, caches,
build output or installed packages: linting those is slow and never what was meant.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Callable, Iterable, Sequence

# Folder names never walked into (unless named on the command line).
SKIPPED_DIR_NAMES = frozenset(
    {
        ".git",
        ".hg",
        ".svn",
        "__pycache__",
        ".venv",
        "venv",
        "build",
        "dist",
        ".tox",
        ".nox",
        ".mypy_cache",
        ".pytest_cache",
        ".ruff_cache",
        "node_modules",
        "site-packages",
    }
)


class UsageError(Exception):
    """A mistake in what the user asked for (the CLI exits with status 2)."""


def is_skipped_dir(path: Path) -> bool:
    name = path.name
    if name in SKIPPED_DIR_NAMES or name.endswith(".egg-info"):
        return True
    # Any virtual environment, whatever it is called (`env`, `.env`, `py311`...).
    return (path / "pyvenv.cfg").is_file()


def discover(
    paths: Sequence[str | os.PathLike],
    on_error: Callable[[Path, OSError], None] | None = None,
) -> list[Path]:
    """The files to check under `paths`, absolute, sorted and without duplicates.

    Raises `UsageError` when a path does not exist. `on_error` is told about folders
    that cannot be listed (they are skipped); without it they are skipped silently.
    """
    missing = [str(p) for p in paths if not os.path.lexists(p)]
    if missing:
        listed = ", ".join(missing)
        noun = "path does" if len(missing) == 1 else "paths do"
        raise UsageError(f"{noun} not exist: {listed}")

    candidates: list[Path] = []
    for given in paths:
        # abspath normalises `./a.py` and `a.py` alike without resolving symlinks,
        # so reported paths stay the ones the user sees in the tree.
        path = Path(os.path.abspath(given))
        if path.is_dir():
            candidates.extend(_walk(path, on_error))
        else:
            candidates.append(path)
    return _deduplicate(candidates)


def _walk(root: Path, on_error: Callable[[Path, OSError], None] | None) -> Iterable[Path]:
    # Symlinked folders are followed, but each real folder is visited once, which
    # also stops symlink loops.
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
                if not is_skipped_dir(path):
                    stack.append(path)
            elif entry.name.endswith(".py"):
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

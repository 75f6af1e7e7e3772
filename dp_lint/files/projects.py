"""Which project each checked file belongs to, and the project's other files.

Configuration applies per file (the nearest [tool.dp-lint]); analysis facts apply per
project: which model an engine call wraps and with which `batch_first`, what a training
script freezes. So a file checked on its own (a file argument, pre-commit, an editor
sending standard input with `--stdin-filename`) is analysed with the project around it,
and gets the findings a run over the whole project gives it.

A file's project root is found walking up from its folder: the first folder whose
`pyproject.toml` has a [tool.dp-lint] table, or that is a git repository's root (holds
`.git`); the walk never goes above a repository's root. Without either, the outermost
folder named on the command line that holds the file, else the file's own folder.
Folders below a root that are roots themselves (a nested [tool.dp-lint], a git
submodule) are other projects.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from dp_lint.config.settings import has_section


class ProjectRoots:
    """Finds project roots; each folder is looked at once."""

    def __init__(self, named_folders: Sequence[Path] = ()):
        # Outermost first: a file below two named folders belongs to the outer one, so
        # the order of the paths on the command line does not matter.
        self.named_folders = sorted({Path(os.path.abspath(p)) for p in named_folders}, key=lambda p: len(p.parts))
        self._markers: dict[Path, Path | None] = {}

    def marked_root(self, folder: Path) -> Path | None:
        """The nearest folder at or above `folder` holding a [tool.dp-lint] table or `.git`."""
        chain = []
        current = folder
        found: Path | None = None
        while True:
            if current in self._markers:
                found = self._markers[current]
                break
            chain.append(current)
            pyproject = current / "pyproject.toml"
            if os.path.lexists(current / ".git") or (pyproject.is_file() and has_section(pyproject)):
                found = current
                break
            if current.parent == current:
                break
            current = current.parent
        for item in chain:
            self._markers[item] = found
        return found

    def root_of(self, path: Path) -> Path:
        """The project root of the file `path` (absolute)."""
        folder = path.parent
        marked = self.marked_root(folder)
        if marked is not None:
            return marked
        for named in self.named_folders:
            if named == folder or named in folder.parents:
                return named
        return folder

    def belongs_to(self, path: Path, root: Path) -> bool:
        """Is the file `path`, found walking `root`, part of that project?"""
        marked = self.marked_root(path.parent)
        if marked is not None:
            return marked == root
        # No marker anywhere above: everything below an unmarked root is its project.
        return root == path.parent or root in path.parents

"""The text of a finding's file, for code frames and fingerprints (read once per report), and
where a finding in a notebook is shown (its cell and the row in the cell)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from dp_lint.core.findings import Finding, Location
from dp_lint.files.notebooks import Notebook, NotebookError, decode_notebook, is_notebook, parse_notebook_text
from dp_lint.files.source import SourceError, decode_source

_LINE_BREAK_RE = re.compile(r"\r\n|\r|\n")


def source_text(path: Path, sources: Mapping[Path, str] | None) -> str | None:
    """The file's text for its code frame, or None when there is none worth showing.

    A file that is not valid in its encoding still gets a frame (bad bytes shown as
    U+FFFD) so the user sees where it breaks; a binary file (NUL bytes) gets none
    rather than a screen of garbage.
    """
    if sources is not None and path in sources:
        return sources[path]
    try:
        data = Path(path).read_bytes()
    except OSError:
        return None
    if is_notebook(path):
        try:
            return decode_notebook(data)
        except NotebookError:
            return data.decode("utf-8", errors="replace")
    try:
        return decode_source(data)
    except SourceError:
        return None if b"\x00" in data else data.decode("utf-8", errors="replace")


def source_lines(text: str | None) -> list[str]:
    """Lines numbered as the parser numbers rows.

    Not `str.splitlines`: it also breaks at form feeds and other Unicode separators,
    which Python's tokenizer does not, and would shift every row after them.
    """
    if text is None:
        return []
    lines = _LINE_BREAK_RE.split(text)
    if lines and lines[-1] == "":
        lines.pop()
    return lines


@dataclass(frozen=True)
class Placement:
    """Where a finding is shown: for a notebook, its cell (1-based among all cells) and the
    positions in that cell; otherwise the finding's own positions (`cell` None)."""

    cell: int | None
    location: Location
    end_location: Location


class Places:
    """Maps findings' positions (a notebook's are in its virtual module) to what users see,
    reading each file once."""

    def __init__(self, sources: Mapping[Path, str] | None = None):
        self.sources = sources
        self._notebooks: dict[Path, Notebook | None] = {}
        self._lines: dict[Path, list[str]] = {}

    def notebook(self, path: Path) -> Notebook | None:
        """The notebook at `path` (None for a Python file or a notebook that cannot be read:
        its DPL000 finding has positions in the file's JSON text)."""
        if not is_notebook(path):
            return None
        if path not in self._notebooks:
            text = source_text(path, self.sources)
            try:
                self._notebooks[path] = parse_notebook_text(text) if text is not None else None
            except NotebookError:
                self._notebooks[path] = None
        return self._notebooks[path]

    def place(self, path: Path, location: Location, end_location: Location, *, insertion: bool = False) -> Placement:
        notebook = self.notebook(path)
        if notebook is None:
            return Placement(None, location, end_location)
        start = notebook.cell_location(location, end=insertion)
        if start is None:
            return Placement(None, location, end_location)
        cell_number, start_in_cell = start
        stop = notebook.cell_location(end_location, end=True)
        if stop is None or stop[0] != cell_number:
            # A span running into the next cell is shown up to the end of its own cell.
            cell = notebook.cell_by_number(cell_number)
            lines = cell.lines if cell is not None else []
            stop = (cell_number, Location(max(1, len(lines)), len(lines[-1]) + 1 if lines else 1))
        return Placement(cell_number, start_in_cell, stop[1])

    def of(self, finding: Finding) -> Placement:
        return self.place(finding.path, finding.location, finding.end_location)

    def lines(self, path: Path, cell: int | None = None) -> list[str]:
        """The lines a placement's rows count: a notebook cell's own lines, or the file's."""
        if cell is not None:
            notebook = self.notebook(path)
            found = notebook.cell_by_number(cell) if notebook is not None else None
            return found.lines if found is not None else []
        if path not in self._lines:
            self._lines[path] = source_lines(source_text(path, self.sources))
        return self._lines[path]

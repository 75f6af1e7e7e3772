"""Jupyter notebooks (`.ipynb`) as one virtual Python module, the way ruff reads them.

The code cells are joined in order, each ending with a line break, into one module that
the rules analyse like any file: a class defined in cell 2 is known in cell 5, and the
engine call may sit in any cell. IPython syntax is masked, never parsed: a line magic
(`%matplotlib inline`), a shell escape (`!pip install ...`, `files = !ls`), a help query
(`model?`, `??model`) becomes `pass` at the same indentation, and a cell that starts with
a cell magic (`%%bash`, `%%writefile`) becomes blank lines, except the magics whose body
is Python (`%%time`, `%%capture`...), where only the magic's own line is masked. Masking
replaces one line by one line, so a row of the virtual module is a row of one cell.

Findings keep positions in the virtual module (fixes and suppressions work on it
unchanged); `cell_location` turns them into (cell number, row in the cell, column),
cells numbered from 1 among all cells, markdown included, as ruff does. Fix edits are
applied to the cells' own text (`with_edits`), so magics survive a fix, and the notebook
is written back with its JSON formatting (indent, key order, escaping, final newline),
metadata and outputs untouched; only changed cells get a new `source`, in the shape the
file used (a string or a list of lines).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from dp_lint.core.findings import Edit, Location

SUFFIX = ".ipynb"

# Cell magics whose body is Python (IPython runs it as code): only their first line is masked.
PYTHON_CELL_MAGICS = frozenset({"capture", "debug", "prun", "pypy", "python", "python3", "time", "timeit"})

MASK = "pass"
_LINE_BREAK_RE = re.compile(r"\r\n|\r|\n")
_ESCAPE_RE = re.compile(r"[ \t]*(%|!|\?)")
# `files = !ls`, `out = %timeit -o f()`: an assignment from a magic or shell escape.
_ASSIGNED_ESCAPE_RE = re.compile(r"[ \t]*[A-Za-z_][\w.]*(?:[ \t]*,[ \t]*[A-Za-z_][\w.]*)*[ \t]*=[ \t]*(%|!)")
# `model?`, `model.forward??`: IPython help.
_HELP_RE = re.compile(r"[ \t]*[A-Za-z_][\w.]*\?\??[ \t]*$")


class NotebookError(Exception):
    """A notebook that cannot be read (reported as DPL000) or an edit it cannot take."""

    def __init__(self, message: str, row: int = 1, column: int = 1):
        super().__init__(message)
        self.message = message
        self.row = row
        self.column = column


def is_notebook(path: str | Path) -> bool:
    return str(path).lower().endswith(SUFFIX)


# --- masking IPython syntax --------------------------------------------------------------


def split_lines(text: str) -> list[str]:
    """Lines with their line breaks, broken where Python's tokenizer breaks them."""
    lines = []
    start = 0
    for match in _LINE_BREAK_RE.finditer(text):
        lines.append(text[start:match.end()])
        start = match.end()
    if start < len(text):
        lines.append(text[start:])
    return lines


def _body(line: str) -> str:
    return _LINE_BREAK_RE.sub("", line)


def _ending(line: str) -> str:
    return line[len(_body(line)):]


def _cell_magic(lines: list[str]) -> str | None:
    """The name of the cell magic on the cell's first line (`%%time` -> `time`)."""
    if not lines:
        return None
    first = _body(lines[0]).lstrip()
    if not first.startswith("%%"):
        return None
    return first[2:].split(maxsplit=1)[0] if first[2:].strip() else ""


class _Scanner:
    """Tracks, line by line, whether a line starts a new logical line of Python: not inside
    brackets or a string, not after a backslash. A `%` or `?` there cannot be Python."""

    def __init__(self):
        self.depth = 0
        self.quote = ""  # the open string's quote (`'`, `"`, `'''`, `\"\"\"`)
        self.continued = False

    @property
    def at_statement_start(self) -> bool:
        return self.depth == 0 and not self.quote and not self.continued

    def feed(self, line: str) -> None:
        text = _body(line)
        i = 0
        self.continued = False
        while i < len(text):
            char = text[i]
            if self.quote:
                if char == "\\":
                    i += 2
                    continue
                if text.startswith(self.quote, i):
                    i += len(self.quote)
                    self.quote = ""
                    continue
                i += 1
                continue
            if char == "#":
                break
            if char in "\"'":
                triple = text[i:i + 3]
                self.quote = triple if triple in ('"""', "'''") else char
                i += len(self.quote)
                continue
            if char in "([{":
                self.depth += 1
            elif char in ")]}":
                self.depth = max(0, self.depth - 1)
            elif char == "\\" and i == len(text) - 1:
                self.continued = True
            i += 1
        if self.quote in ('"', "'") and not self.continued:
            self.quote = ""  # an unterminated one-line string ends with its line


def _is_escape(line: str) -> bool:
    body = _body(line)
    return bool(_ESCAPE_RE.match(body) or _ASSIGNED_ESCAPE_RE.match(body) or _HELP_RE.match(body))


def mask_cell(source: str) -> tuple[str, frozenset[int]]:
    """The cell's text with IPython syntax masked, and the masked rows (1-based)."""
    lines = split_lines(source)
    magic = _cell_magic(lines)
    masked: set[int] = set()
    out = []
    if magic is not None and magic not in PYTHON_CELL_MAGICS:
        # `%%bash`, `%%writefile x.py`, `%%html`: not Python at all.
        return "".join(_ending(line) or "" for line in lines), frozenset(range(1, len(lines) + 1))
    scanner = _Scanner()
    in_escape = False  # a masked line that ends with a backslash continues on the next one
    for row, line in enumerate(lines, start=1):
        body = _body(line)
        first_magic = row == 1 and magic is not None
        if in_escape or first_magic or (scanner.at_statement_start and _is_escape(line)):
            indent = body[: len(body) - len(body.lstrip())]
            out.append(("" if in_escape or first_magic else indent + MASK) + _ending(line))
            masked.add(row)
            in_escape = body.endswith("\\")
            continue
        out.append(line)
        scanner.feed(line)
    return "".join(out), frozenset(masked)


# --- the notebook -------------------------------------------------------------------------


@dataclass(frozen=True)
class CodeCell:
    """One code cell in the virtual module."""

    index: int  # 0-based position among all cells
    source: str  # the cell's own text (magics included)
    first_row: int  # its first row in the virtual module
    masked_rows: frozenset[int] = frozenset()  # rows (1-based, in the cell) holding IPython syntax
    added_newline: bool = False  # the cell does not end with a line break; the module adds one
    virtual: str = ""  # the cell's text in the virtual module (masked, ending with a line break)

    @property
    def number(self) -> int:
        """1-based among all cells, as ruff and Jupyter's cell counter show it."""
        return self.index + 1

    @property
    def is_python(self) -> bool:
        """False for a cell magic whose body is not Python (`%%bash`): every row is masked."""
        return len(self.masked_rows) < self.row_count or not self.source

    @property
    def row_count(self) -> int:
        return len(split_lines(self.virtual))

    @property
    def lines(self) -> list[str]:
        """The cell's own lines (no line breaks), for code frames."""
        return [_body(line) for line in split_lines(self.source)]


@dataclass(frozen=True)
class JsonFormat:
    indent: int | str | None = 1
    ensure_ascii: bool = False
    final_newline: bool = True
    separators: tuple[str, str] = (",", ": ")


@dataclass
class Notebook:
    data: dict  # the whole JSON document, as read
    cells: list[CodeCell]
    text: str  # the virtual module
    original: str = ""  # the JSON text read
    _json_format: JsonFormat | None = field(default=None, repr=False)

    @property
    def json_format(self) -> JsonFormat:
        """How the file's JSON is written (found on first use: only writing needs it)."""
        if self._json_format is None:
            self._json_format = detect_format(self.original, self.data) if self.original else JsonFormat()
        return self._json_format

    # -- positions ------------------------------------------------------------------

    def cell_at_row(self, row: int) -> CodeCell | None:
        for cell in reversed(self.cells):
            if cell.first_row <= row:
                return cell if row < cell.first_row + cell.row_count or cell is self.cells[-1] else None
        return None

    def cell_location(self, location: Location, *, end: bool = False) -> tuple[int, Location] | None:
        """(cell number, position in the cell) of a virtual-module position. An end position
        at the very start of a cell belongs to the end of the cell before it."""
        cell = self.cell_at_row(location.row)
        if cell is None:
            return None
        if end and location.column == 1 and location.row == cell.first_row:
            previous = self._previous(cell)
            if previous is not None:
                return previous.number, Location(previous.row_count + 1, 1)
        return cell.number, Location(location.row - cell.first_row + 1, location.column)

    def cell_by_number(self, number: int) -> CodeCell | None:
        return next((cell for cell in self.cells if cell.number == number), None)

    def _previous(self, cell: CodeCell) -> CodeCell | None:
        position = self.cells.index(cell)
        return self.cells[position - 1] if position else None

    # -- edits ----------------------------------------------------------------------

    def with_edits(self, edits: list[Edit]) -> Notebook:
        """The notebook with `edits` (virtual-module positions, non-overlapping) applied to
        its cells. Raises NotebookError for an edit that spans two cells or touches a
        masked IPython line (the magic would be lost)."""
        by_cell: dict[int, list[tuple[Location, Location, str]]] = {}
        for edit in edits:
            start, stop = self._edit_span(edit)
            by_cell.setdefault(start[0], []).append((start[1], stop[1], edit.content))
        sources = {cell.index: cell.source for cell in self.cells}
        for cell in self.cells:
            cell_edits = by_cell.get(cell.index)
            if not cell_edits:
                continue
            text = cell.source + ("\n" if cell.added_newline else "")
            for begin, finish, _ in cell_edits:
                for row in cell.masked_rows:
                    if begin.row <= row < finish.row or (begin.row == row and begin.column > 1) or (
                        finish.row == row and finish.column > 1
                    ):
                        raise NotebookError(f"the fix would change an IPython line (cell {cell.number}, row {row})")
            text = _apply(text, cell_edits)
            if cell.added_newline and text.endswith("\n"):
                text = text[:-1]
            sources[cell.index] = text
        data = json.loads(json.dumps(self.data))  # a deep copy of plain JSON values
        for index, source in sources.items():
            raw_cell = data["cells"][index]
            if source != _joined(self.data["cells"][index].get("source", "")):
                raw_cell["source"] = _shaped_like(self.data["cells"][index].get("source", ""), source)
        return replace(build(data), original=self.original, _json_format=self.json_format)

    def _edit_span(self, edit: Edit) -> tuple[tuple[int, Location], tuple[int, Location]]:
        """(cell index, position in the cell) of an edit's start and end."""
        insertion = edit.location == edit.end_location
        # An insertion where one cell ends and the next begins goes at the end of the
        # first one (a statement added after the last line of a cell stays with it).
        start = self.cell_location(edit.location, end=insertion)
        if insertion and start is not None and start[1].column == 1:
            cell = self.cell_by_number(start[0])
            if cell is not None and start[1].row == cell.row_count + 1 and not cell.is_python:
                start = self.cell_location(edit.location)  # not into a `%%bash` cell: the next one
        stop = start if insertion else self.cell_location(edit.end_location, end=True)
        if start is None or stop is None:
            raise NotebookError("the fix lies outside the notebook's code cells")
        if start[0] != stop[0]:
            raise NotebookError("the fix spans two notebook cells")
        index = start[0] - 1
        return (index, start[1]), (index, stop[1])

    # -- writing --------------------------------------------------------------------

    def dumps(self) -> str:
        """The JSON text of the notebook, formatted like the file it was read from."""
        return dumps(self.data, self.json_format)


def _apply(text: str, edits: list[tuple[Location, Location, str]]) -> str:
    starts = [0] + [m.end() for m in _LINE_BREAK_RE.finditer(text)]

    def offset(location: Location) -> int:
        if location.row - 1 >= len(starts):
            return len(text)
        return min(starts[location.row - 1] + location.column - 1, len(text))

    for begin, end, content in sorted(((offset(a), offset(b), c) for a, b, c in edits), reverse=True):
        text = text[:begin] + content + text[end:]
    return text


def _joined(source: Any) -> str:
    if isinstance(source, list):
        return "".join(str(part) for part in source)
    return str(source) if source is not None else ""


def _shaped_like(old: Any, text: str) -> Any:
    """`text` as a list of lines when the file stored the source as a list (Jupyter's way)."""
    if isinstance(old, list):
        return split_lines(text)
    return text


def build(data: Any) -> Notebook:
    """The virtual module of a parsed notebook document. Raises NotebookError for a JSON
    document that is not a notebook."""
    if not isinstance(data, dict) or not isinstance(data.get("cells"), list):
        if isinstance(data, dict) and "worksheets" in data:
            raise NotebookError("notebook format 3 (`worksheets`) is not supported; convert it with `jupyter nbconvert --to notebook`")
        raise NotebookError("not a Jupyter notebook: no `cells` list in the JSON document")
    cells = []
    row = 1
    chunks = []
    for index, raw in enumerate(data["cells"]):
        if not isinstance(raw, dict):
            raise NotebookError(f"cell {index + 1} is not a JSON object")
        if raw.get("cell_type") != "code":
            continue
        source = raw.get("source", "")
        if not isinstance(source, (str, list)) or (isinstance(source, list) and not all(isinstance(s, str) for s in source)):
            raise NotebookError(f"cell {index + 1}: `source` must be a string or a list of strings")
        text = _joined(source)
        masked, masked_rows = mask_cell(text)
        added = not masked.endswith(("\n", "\r"))
        virtual = masked + ("\n" if added else "")
        cell = CodeCell(index, text, row, masked_rows, added, virtual)
        cells.append(cell)
        chunks.append(virtual)
        row += cell.row_count
    return Notebook(data=data, cells=cells, text="".join(chunks))


def detect_format(text: str, data: Any) -> JsonFormat:
    """Indent, separators, escaping and final newline of a notebook's JSON text: the first
    candidate that writes `data` back exactly as `text`, else the likeliest one."""
    indent: int | str | None = None
    for line in text.splitlines()[1:3]:
        stripped = line.lstrip(" \t")
        if stripped and len(stripped) < len(line):
            lead = line[: len(line) - len(stripped)]
            indent = lead if "\t" in lead else len(lead)
            break
    final_newline = text.endswith("\n")
    separator_choices = [(",", ": ")] if indent is not None else [(", ", ": "), (",", ":")]
    literal_non_ascii = any(ord(char) > 127 for char in text)
    candidates = [
        JsonFormat(indent, ensure_ascii, final_newline, separators)
        for separators in separator_choices
        for ensure_ascii in ((False, True) if not literal_non_ascii else (False,))
    ]
    for candidate in candidates:
        if dumps(data, candidate) == text:
            return candidate
    return candidates[0]


def dumps(data: Any, json_format: JsonFormat) -> str:
    text = json.dumps(data, indent=json_format.indent, ensure_ascii=json_format.ensure_ascii,
                      separators=json_format.separators)
    return text + ("\n" if json_format.final_newline else "")


def parse_notebook_text(text: str) -> Notebook:
    """Read a notebook's JSON text. Raises NotebookError (with the JSON error's position)."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise NotebookError(f"invalid notebook JSON: {exc.msg}", exc.lineno, exc.colno) from None
    except RecursionError:
        raise NotebookError("invalid notebook JSON: nested too deeply") from None
    return replace(build(data), original=text)


def decode_notebook(data: bytes) -> str:
    """A notebook's bytes as text: JSON is UTF-8 (a BOM is tolerated)."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        row = data[: exc.start].count(b"\n") + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise NotebookError(f"notebook is not valid UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start})",
                            row, column) from None


def read_notebook(data: bytes) -> Notebook:
    return parse_notebook_text(decode_notebook(data))

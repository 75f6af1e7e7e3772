"""Reading and parsing one source file, exactly once, and mapping nodes to positions."""

from __future__ import annotations

import ast
import codecs
import errno
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import libcst as cst
from libcst.metadata import MetadataWrapper, PositionProvider

from dp_lint.core.findings import Finding, Location
from dp_lint.files.nesting import MAX_ANALYSED_DEPTH, python_verdict, scan
from dp_lint.files.notebooks import Notebook, NotebookError, decode_notebook, is_notebook, parse_notebook_text
from dp_lint.files.syntax import parents_of

# PEP 263: a coding declaration in one of the first two lines.
CODING_RE = re.compile(rb"^[ \t\f]*#.*?coding[:=][ \t]*([-\w.]+)")


class NotAnalysed(Exception):
    """Valid Python that dp-lint cannot analyse: the file is skipped with a notice (an
    `AnalysisFailure` marked as a limit); it is not a syntax error, and not a finding."""


class TooDeeplyNested(NotAnalysed):
    """Nested deeper than dp-lint analyses (dp_lint.files.nesting)."""

    def __init__(self, depth: int):
        super().__init__(f"nested {depth} levels deep, more than the {MAX_ANALYSED_DEPTH} dp-lint analyses; skipped")
        self.depth = depth


class UnsupportedSyntax(NotAnalysed):
    """Python compiles it, libcst's parser does not (a parenthesised annotation target,
    `(x): int`, on libcst 1.x)."""

    def __init__(self, row: int, column: int):
        super().__init__(f"valid Python that dp-lint's parser (libcst) cannot read at {row}:{column}; skipped")


class SourceError(Exception):
    """A file that cannot be analysed; carries the location to report (DPL000)."""

    def __init__(self, message: str, row: int = 1, column: int = 1):
        super().__init__(message)
        self.message = message
        self.row = row
        self.column = column


def decode_source(data: bytes) -> str:
    """Decode like the Python interpreter: BOM, then PEP 263 declaration, then UTF-8."""
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8):]
        encoding = "utf-8"
        for line in data.splitlines()[:2]:
            match = CODING_RE.match(line)
            if match:
                # CPython accepts a declaration next to a BOM only when it names UTF-8 as
                # `utf-8` (or `utf_8`, any case): `utf8` with a BOM does not compile.
                declared = match.group(1).decode("ascii")
                normal = declared.lower().replace("_", "-")
                if normal != "utf-8" and not normal.startswith("utf-8-"):
                    raise SourceError(f"encoding problem: {declared} with BOM")
                break
    else:
        encoding = "utf-8"
        for line in data.splitlines()[:2]:
            match = CODING_RE.match(line)
            if match:
                encoding = match.group(1).decode("ascii")
                break
    try:
        codecs.lookup(encoding)
    except LookupError:
        raise SourceError(f"unknown encoding in coding declaration: {encoding!r}") from None
    if b"\x00" in data:
        raise SourceError("file contains NUL bytes; it is not Python source")
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        row = data[: exc.start].count(b"\n") + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise SourceError(
            f"file is not valid {encoding} (byte 0x{data[exc.start]:02x} at offset {exc.start})",
            row,
            column,
        ) from None


@dataclass(eq=False)
class SourceFile:
    """One parsed file. `module` is the single libcst tree every rule shares.

    For a notebook, `text` and `module` are its virtual module (the code cells joined,
    IPython syntax masked) and `notebook` maps its rows back to cells.
    """

    path: Path
    module_name: str
    text: str
    module: cst.Module
    notebook: Notebook | None = None
    _positions: object = field(default=None, repr=False)
    _parents: dict | None = field(default=None, repr=False)

    @property
    def positions(self):
        """libcst positions of every node (computed on first use, see `span`)."""
        if self._positions is None:
            wrapper = MetadataWrapper(self.module, unsafe_skip_copy=True)
            self._positions = wrapper.resolve(PositionProvider)
        return self._positions

    @property
    def parents(self) -> dict:
        """Parent of every node; only fixes need it, so it is built on first use."""
        if self._parents is None:
            self._parents = parents_of(self.module)
        return self._parents

    def span(self, node: cst.CSTNode) -> tuple[Location, Location]:
        """Start and end of `node` (1-based columns).

        Positions are computed lazily, and only for files that have findings:
        PositionProvider re-generates the whole file, which would otherwise
        double the cost of `check` on large trees.
        """
        code_range = self.positions[node]
        return (
            Location(code_range.start.line, code_range.start.column + 1),
            Location(code_range.end.line, code_range.end.column + 1),
        )


def read_error(path: Path, exc: OSError) -> SourceError:
    """A file that cannot be read: a broken symbolic link and a link loop are named as such;
    a file removed since it was found reads "No such file or directory"."""
    if exc.errno == errno.ELOOP:
        return SourceError("cannot read file: symbolic link loop")
    if exc.errno == errno.ENOENT and os.path.islink(path):
        try:
            return SourceError(f"cannot read file: broken symbolic link (to {os.readlink(path)})")
        except OSError:
            pass
    return SourceError(f"cannot read file: {exc.strerror or exc}")


def decode_file(path: Path, data: bytes) -> str:
    """A file's bytes as text: a notebook's JSON (UTF-8), or Python source in its declared encoding."""
    if is_notebook(path):
        try:
            return decode_notebook(data)
        except NotebookError as error:
            raise SourceError(error.message, error.row, error.column) from None
    return decode_source(data)


def parse_source(path: Path, module_name: str, data: bytes) -> SourceFile:
    """Parse a file's bytes (a `.ipynb` file is read as a notebook)."""
    return parse_text(path, module_name, decode_file(path, data))


def parse_text(path: Path, module_name: str, text: str) -> SourceFile:
    """Parse a file's text: Python source, or a notebook's JSON text for a `.ipynb` path."""
    if is_notebook(path):
        try:
            notebook = parse_notebook_text(text)
        except NotebookError as error:
            raise SourceError(error.message, error.row, error.column) from None
        source = _parse_python(path, module_name, notebook.text)
        source.notebook = notebook
        return source
    return _parse_python(path, module_name, text)


def module_text(path: Path, text: str) -> str | None:
    """The Python text rules see for a file's text: the virtual module of a notebook
    (None when it cannot be read), the text itself otherwise."""
    if not is_notebook(path):
        return text
    try:
        return parse_notebook_text(text).text
    except NotebookError:
        return None


def _parse_python(path: Path, module_name: str, text: str) -> SourceFile:
    if scan(text).suspicious:
        # Python decides before libcst sees the file (libcst takes minutes on nesting Python
        # rejects, and crashes on deeper): see dp_lint.files.nesting.
        verdict = python_verdict(text, str(path))
        if verdict.rejected:
            raise SourceError(verdict.message or "syntax error", verdict.row, verdict.column)
        if verdict.depth > MAX_ANALYSED_DEPTH:
            raise TooDeeplyNested(verdict.depth)
    try:
        module = cst.parse_module(text)
    except cst.ParserSyntaxError as exc:
        raise _located_syntax_error(text, path, exc) from None
    except (RecursionError, MemoryError):
        raise SourceError("syntax error: too deeply nested to parse") from None
    return SourceFile(path=path, module_name=module_name, text=text, module=module)


def _located_syntax_error(text: str, path: Path, exc: cst.ParserSyntaxError) -> Exception:
    """CPython's own message and position when it also rejects the file (they are exact);
    `UnsupportedSyntax` when Python compiles what libcst cannot read: no syntax error is
    claimed for a file Python runs. Only files libcst rejects pay for this second parse."""
    try:
        compile(text, str(path), "exec", flags=ast.PyCF_ONLY_AST, dont_inherit=True)
    except SyntaxError as error:
        return SourceError(f"syntax error: {error.msg}", error.lineno or 1, error.offset or 1)
    except (ValueError, RecursionError, MemoryError):
        return SourceError(f"syntax error: {exc.message}", exc.raw_line, exc.raw_column + 1)
    return UnsupportedSyntax(exc.raw_line, exc.raw_column + 1)


def syntax_error_finding(path: Path, error: SourceError) -> Finding:
    loc = Location(error.row, error.column)
    return Finding(
        code="DPL000",
        name="syntax-error",
        message=error.message,
        help="No other rule checks this file until it can be read and parsed.",
        path=path,
        location=loc,
        end_location=loc,
    )

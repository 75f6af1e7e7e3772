"""`dp-lint fix`: apply fixes in passes until nothing changes, then show or write the result.

Like ruff: each pass checks the current (in-memory) text of every file, applies the
fixes whose edits do not overlap, and checks again, so a fix that makes another rule's
fix possible (DPL001 then DPL003's freeze) lands in the next pass. A fix whose result
does not parse is dropped and reported, never written. Files are written atomically
(temporary file in the same folder, then rename), keep their mode, encoding, BOM and
newline style, and are not overwritten when they changed on disk since they were read.
"""

from __future__ import annotations

import dataclasses
import difflib
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import libcst as cst

from dp_lint.analysis.project import Project
from dp_lint.config.settings import Config
from dp_lint.core.failures import AnalysisFailure
from dp_lint.core.findings import Applicability, Finding, Location
from dp_lint.files.notebooks import NotebookError, decode_notebook, is_notebook, parse_notebook_text
from dp_lint.files.source import SourceError, module_text
from dp_lint.files.textfiles import TextFileState, decode_text_file, write_text_file
from dp_lint.fix.edits import apply_edits, edit_span
from dp_lint.lint import run as runner
from dp_lint.lint.check import check_files

MAX_PASSES = 10


@dataclass
class SourceState:
    path: Path
    original_bytes: bytes
    original_text: str
    text: str
    stored: TextFileState  # encoding and BOM, to write the file back as it was


@dataclass
class FixReport:
    fixed: list[Finding] = field(default_factory=list)  # as reported in the pass that fixed them
    remaining: list[Finding] = field(default_factory=list)
    states: dict[Path, SourceState] = field(default_factory=dict)
    dropped: list[tuple[Finding, str]] = field(default_factory=list)
    internal_errors: list[AnalysisFailure] = field(default_factory=list)
    # The first pass's project (the files as they were read) and the run's configuration,
    # for `fix --verify`, which places the fixed findings in the original models.
    original_project: Project | None = None
    config: Config | None = None
    # The files actually written by `write_fixes`, and the check a run repeats on the
    # files as they end up (see `settle`).
    written: list[Path] = field(default_factory=list)
    recheck: Callable[[dict[Path, str]], tuple[list[Finding], list[AnalysisFailure], Project | None]] | None = None
    checked_texts: dict[Path, str] = field(default_factory=dict)  # what `remaining` was found in
    original_findings: list[Finding] = field(default_factory=list)  # the first pass's: the files as read

    @property
    def changed(self) -> list[SourceState]:
        return [s for s in self.states.values() if s.text != s.original_text]


def _read_state(path: Path) -> SourceState | None:
    try:
        data = path.read_bytes()
        if is_notebook(path):
            # JSON is UTF-8; `text` is the notebook's JSON text, its cells change through edits.
            text = decode_notebook(data)
            stored = TextFileState(text, "utf-8", data.startswith(b"\xef\xbb\xbf"))
        else:
            stored = decode_text_file(data)  # the bytes compared before writing are the ones decoded
    except (OSError, SourceError, NotebookError):
        return None  # reported by check as DPL000; nothing to fix there
    return SourceState(path, data, stored.text, stored.text, stored)


def _memory_state(path: Path, text: str) -> SourceState:
    """The state of a text that is not read from disk (it is never written: `write_fixes`
    would find the file changed on disk)."""
    return SourceState(path, text.encode("utf-8"), text, text, TextFileState(text, "utf-8", False))


def _edited(path: Path, text: str, edits) -> str:
    """A file's text with `edits` applied. For a notebook the edits are positions in its
    virtual module; they go into the cells' sources (NotebookError when one cannot)."""
    if is_notebook(path):
        return parse_notebook_text(text).with_edits(list(edits)).dumps()
    return apply_edits(text, edits)


def _parses_as_module(path: Path, text: str) -> bool:
    module = module_text(path, text)
    return module is not None and _parses(module)


def _fixable(finding: Finding, unsafe: bool) -> bool:
    return finding.fix is not None and (unsafe or finding.fix.applicability is Applicability.SAFE)


def run_fixes(
    files_or_request: runner.Request | Sequence[Path],
    *,
    unsafe: bool = False,
    select: Collection[str] | None = None,
    ignore: Collection[str] = frozenset(),
    config: Config | None = None,
    on_error: Callable[[Path, OSError], None] | None = None,
) -> FixReport:
    """Fix in passes. Given a `runner.Request`, configuration, per-file selection and
    inline suppressions apply exactly as in `check` (and DPL900's fixes remove unused
    suppressions); given a list of files, only `select`/`ignore`/`config` apply."""
    report = FixReport()
    in_memory: dict[Path, str] = {}
    if isinstance(files_or_request, runner.Request):
        prepared = runner.prepare(files_or_request, on_error=on_error)
        files = prepared.files
        # Standard input (`Request.stdin_text`, the language server's unsaved buffer) is fixed
        # as given, not as the file on disk is.
        in_memory = dict(prepared.texts)
        report.config = prepared.project_config

        def check(texts: dict[Path, str]) -> tuple[list[Finding], list[AnalysisFailure], Project | None]:
            run = runner.analyse(prepared, texts)
            return run.findings, run.internal_errors, run.project
    else:
        files = list(files_or_request)
        report.config = config

        def check(texts: dict[Path, str]) -> tuple[list[Finding], list[AnalysisFailure], Project | None]:
            result = check_files(files, select=select, ignore=ignore, config=config, texts=texts)
            return result.findings, result.internal_errors, result.project

    report.recheck = check
    for path in files:
        state = _memory_state(path, in_memory[path]) if path in in_memory else _read_state(path)
        if state is not None:
            report.states[path] = state
    findings: list[Finding] = []
    for _ in range(MAX_PASSES):
        report.checked_texts = {path: state.text for path, state in report.states.items()}
        findings, errors, project = check(report.checked_texts)
        if report.original_project is None:
            report.original_project = project
            report.original_findings = list(findings)
        report.internal_errors.extend(e for e in errors if e not in report.internal_errors)
        candidates = [f for f in findings if _fixable(f, unsafe) and f.path in report.states]
        if not candidates or not _apply_pass(candidates, report):
            break
    report.remaining = list(findings)
    return report


def _apply_pass(candidates: list[Finding], report: FixReport) -> bool:
    """Apply one pass of non-overlapping fixes; True when some text changed."""
    changed = False
    by_file: dict[Path, list[Finding]] = {}
    for finding in candidates:
        by_file.setdefault(finding.path, []).append(finding)
    for path, findings in by_file.items():
        state = report.states[path]
        module = module_text(path, state.text)
        if module is None:
            continue
        chosen, fixed = _non_overlapping(module, findings)
        try:
            new_text = _edited(path, state.text, [e for fix in chosen for e in fix.edits])
        except NotebookError:
            new_text = None
        if new_text is not None and _parses_as_module(path, new_text):
            state.text = new_text
            report.fixed.extend(fixed)
            changed = changed or bool(chosen)
            continue
        # Together they break the file: keep those that parse one by one, drop the others.
        for fix in chosen:
            owners = [f for f in fixed if f.fix == fix]
            try:
                attempt = _edited(path, state.text, fix.edits)
            except NotebookError as error:
                report.dropped.extend((f, error.message) for f in owners)
                continue
            if _parses_as_module(path, attempt):
                state.text = attempt
                report.fixed.extend(owners)
                changed = True
                break  # positions moved: the rest waits for the next pass
            report.dropped.extend((f, "the fixed code would not parse") for f in owners)
    return changed


def _non_overlapping(text: str, findings: list[Finding]):
    """Fixes in a stable order (by position, then code); one that overlaps an earlier
    one waits for the next pass. Findings sharing one fix (one DPL001 call stopped in
    two places) are all fixed by it."""
    chosen = []
    fixed = []
    taken: list[tuple[int, int]] = []
    for finding in sorted(findings, key=lambda f: (f.location, f.code)):
        fix = finding.fix
        if fix is None:  # not a candidate (`_fixable`)
            continue
        if fix in chosen:
            fixed.append(finding)
            continue
        spans = [edit_span(text, e) for e in fix.edits]
        if any(_overlaps(span, other) for span in spans for other in taken):
            continue
        chosen.append(fix)
        fixed.append(finding)
        taken.extend(spans)
    return chosen, fixed


def _overlaps(a: tuple[int, int], b: tuple[int, int]) -> bool:
    # Touching whole-line edits (one ends where the next starts) do not overlap; two
    # insertions at the same point do (their order would be arbitrary).
    if a[0] == a[1] and b[0] == b[1]:
        return a[0] == b[0]
    return a[0] < b[1] and b[0] < a[1]


def _parses(text: str) -> bool:
    try:
        cst.parse_module(text)
        return True
    except (cst.ParserSyntaxError, RecursionError):
        return False


def unified_diff(report: FixReport, display) -> str:
    """A unified diff of every changed file; a notebook shows one diff per changed cell
    (`a/nb.ipynb:cell 3`), as ruff does, rather than its JSON."""
    chunks = []
    for state in report.changed:
        name = display(state.path)
        if is_notebook(state.path):
            chunks.extend(_notebook_diffs(state, name))
            continue
        chunks.append(
            "".join(
                difflib.unified_diff(
                    state.original_text.splitlines(keepends=True),
                    state.text.splitlines(keepends=True),
                    fromfile=f"a/{name.lstrip('/')}",
                    tofile=f"b/{name.lstrip('/')}",
                )
            )
        )
    return "".join(c if c.endswith("\n") else c + "\n" for c in chunks)


def _notebook_diffs(state: SourceState, name: str) -> list[str]:
    try:
        before, after = parse_notebook_text(state.original_text), parse_notebook_text(state.text)
    except NotebookError:
        return []
    old_sources = {cell.index: cell.source for cell in before.cells}
    chunks = []
    for cell in after.cells:
        old = old_sources.get(cell.index, "")
        if old == cell.source:
            continue
        label = f"{name.lstrip('/')}:cell {cell.number}"
        chunks.append("".join(difflib.unified_diff(
            _with_final_newline(old).splitlines(keepends=True),
            _with_final_newline(cell.source).splitlines(keepends=True),
            fromfile=f"a/{label}", tofile=f"b/{label}",
        )))
    return chunks


def _with_final_newline(text: str) -> str:
    return text if not text or text.endswith("\n") else text + "\n"


def write_fixes(report: FixReport) -> list[str]:
    """Write every changed file atomically; returns problems (file changed on disk, a
    read-only file, ...). The files written are recorded in `report.written`."""
    problems = []
    for state in report.changed:
        try:
            current = state.path.read_bytes()
        except OSError as exc:
            problems.append(f"{state.path}: cannot read it again before writing ({exc.strerror or exc}); not written")
            continue
        if current != state.original_bytes:
            problems.append(f"{state.path}: changed on disk while dp-lint was fixing it; not overwritten")
            continue
        try:
            write_text_file(state.path, state.text, state.stored)
        except UnicodeEncodeError:
            problems.append(f"{state.path}: the fix cannot be written in the file's encoding {state.stored.encoding}")
        except OSError as exc:
            problems.append(f"{state.path}: cannot write ({exc.strerror or exc}); not written")
        else:
            report.written.append(state.path)
    return problems


def settle(report: FixReport, *, applied: bool) -> None:
    """Make the report true of the files as they are on disk after the command.

    With `applied` (`fix --apply`): a file that was not written gets its original text
    back; only the findings of written files count as fixed; and when some file was not
    written, the findings left are those of a fresh check of the files as they are.
    Without (`fix`, a diff): nothing was written, so each finding left is placed in the
    file as it is on disk (the fixed text's positions mapped back through the diff)."""
    if applied:
        written = set(report.written)
        for state in report.changed:
            if state.path not in written:
                state.text = state.original_text
        report.fixed = [f for f in report.fixed if f.path in written]
    texts = {path: state.text for path, state in report.states.items()}
    if texts != report.checked_texts and report.recheck is not None:
        findings, errors, _ = report.recheck(texts)
        report.remaining = list(findings)
        report.checked_texts = texts
        report.internal_errors.extend(e for e in errors if e not in report.internal_errors)
    if applied:
        return
    # A finding left that was there before the fixes is reported as the files on disk have it
    # (its message may name positions too); a new one is placed through the diff.
    before = {(f.path, f.code, f.location): f for f in report.original_findings}
    mapped = []
    for finding in report.remaining:
        held = report.states.get(finding.path)
        if held is None or held.text == held.original_text:
            mapped.append(before.get((finding.path, finding.code, finding.location), finding))
            continue
        placed = _placed_in(finding, module_text(finding.path, held.original_text),
                            module_text(finding.path, held.text))
        mapped.append(before.get((placed.path, placed.code, placed.location), placed))
    report.remaining = mapped


def _placed_in(finding: Finding, old: str | None, new: str | None) -> Finding:
    """`finding` (positions in the fixed text `new`) placed in the original text `old`: a
    line the fixes left alone keeps its columns; one they rewrote points at the start of
    the original lines it replaces."""
    if old is None or new is None:
        return finding
    old_lines, new_lines = old.splitlines(), new.splitlines()
    opcodes = difflib.SequenceMatcher(None, old_lines, new_lines, autojunk=False).get_opcodes()

    def place(location: Location) -> Location:
        row = location.row - 1
        for tag, i1, _i2, j1, j2 in opcodes:
            if j1 <= row < j2 or (tag == "insert" and row == j1):
                if tag == "equal":
                    return Location(i1 + row - j1 + 1, location.column)
                return Location(min(i1, max(len(old_lines) - 1, 0)) + 1, 1)
        return Location(max(len(old_lines), 1), 1)

    start = place(finding.location)
    end = place(finding.end_location)
    if end < start:
        end = start
    return dataclasses.replace(finding, location=start, end_location=end)

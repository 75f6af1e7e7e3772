"""Rendering findings: `full`, `concise`, `json` and `json-lines`, shaped like ruff's.

Every formatter returns a string; whether it goes to a terminal (and gets colour)
is the caller's business, see `use_color`.
"""

from __future__ import annotations

import difflib
import io
import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TextIO

from rich.console import Console
from rich.text import Text

from dp_lint.core.failures import AnalysisFailure, gave_up_line
from dp_lint.core.findings import Confidence, Finding
from dp_lint.core.paths import display_path
from dp_lint.fix.edits import apply_edits
from dp_lint.report import ci as ci_formats
from dp_lint.report.sources import Placement, Places

FORMATS = ("full", "concise", "json", "json-lines", "github", "sarif", "junit", "gitlab")
# Formats whose output is one document (never followed by a summary line).
TEXT_FORMATS = ("full", "concise")

# Lines of context shown above and below a finding in `full`, as ruff does.
CONTEXT_LINES = 2
# A finding spanning more lines than this shows only its first lines.
MAX_SPAN_LINES = 6


PATH_STYLE = "bold"
PUNCT_STYLE = "cyan"
CODE_STYLE = "bold red"
GUTTER_STYLE = "bold blue"
VERIFY_STYLE = "bold magenta"
HELP_STYLE = "bold cyan"


def use_color(stream: TextIO) -> bool:
    """Colour only on a terminal, and never when NO_COLOR is set (https://no-color.org)."""
    if os.environ.get("NO_COLOR"):
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())



def sorted_findings(findings: Sequence[Finding]) -> list[Finding]:
    return sorted(findings, key=Finding.sort_key)


def summary_line(findings: Sequence[Finding], *, unsafe_fixes: bool = False,
                 failures: Sequence[AnalysisFailure] = ()) -> str:
    """`Found N errors.` and, when some have a fix, a second line saying how many
    `dp-lint fix --apply` fixes (and how many more --unsafe-fixes would), as ruff does.
    With `unsafe_fixes` (`check --unsafe-fixes`), unsafe fixes count as fixable.
    `failures`: what an analysis gave up on; a last line counts them, and "All checks
    passed!" is never said then."""
    count = len(findings)
    if count == 0:
        if failures:
            return "No findings in what was analysed.\n" + gave_up_line(list(failures))
        return "All checks passed!"
    line = _found_line(findings, count, unsafe_fixes)
    return line + "\n" + gave_up_line(list(failures)) if failures else line


def _found_line(findings: Sequence[Finding], count: int, unsafe_fixes: bool) -> str:
    line = f"Found {count} error{'s' if count != 1 else ''}."
    safe, unsafe = fixable_counts(findings)
    if unsafe_fixes:
        safe, unsafe = safe + unsafe, 0
        command = "`dp-lint fix --apply --unsafe-fixes`"
    else:
        command = "`dp-lint fix --apply`"
    if safe:
        more = f" ({unsafe} more with --unsafe-fixes)" if unsafe else ""
        line += f"\n[*] {safe} fixable with {command}{more}."
    elif unsafe:
        line += (f"\nNo safe fixes available ({unsafe} fixable with "
                 f"`dp-lint fix --apply --unsafe-fixes`).")
    return line


def fixable_counts(findings: Sequence[Finding]) -> tuple[int, int]:
    """How many findings have a safe fix, and how many only an unsafe one."""
    safe = sum(1 for f in findings if f.safe_fix)
    unsafe = sum(1 for f in findings if f.fix is not None and not f.safe_fix)
    return safe, unsafe


def format_findings(
    findings: Sequence[Finding],
    output_format: str,
    *,
    color: bool = False,
    sources: Mapping[Path, str] | None = None,
    cwd: Path | None = None,
    files: Sequence[Path] | None = None,
    show_fixes: bool = False,
    unsafe_fixes: bool = False,
    failures: Sequence[AnalysisFailure] = (),
) -> str:
    """Render `findings` (sorted here) in `output_format`. Text formats end with a newline
    per finding; the summary line is not included (see `summary_line`). `files` (every
    file checked) gives `junit` its passing test cases. `show_fixes` (`full` only): each
    finding's fix as a diff below its help line. `unsafe_fixes`: `[*]` marks unsafe fixes too.
    `failures` (what an analysis gave up on) follow the findings in `json` and `json-lines`
    as objects with `"code": null` and `"name": "analysis-gave-up"` (`failure_to_json`)."""
    findings = sorted_findings(findings)
    places = Places(sources)  # each file read once, however many findings
    if output_format in ("github", "sarif", "junit", "gitlab"):
        where = Path(os.path.abspath(cwd or Path.cwd()))
        if output_format == "github":
            return ci_formats.github(findings, where, places)
        if output_format == "sarif":
            return ci_formats.sarif(findings, where, places)
        if output_format == "junit":
            return ci_formats.junit(findings, where, files, places)
        return ci_formats.gitlab(findings, where, places)
    if output_format == "json":
        items = [to_json(f, places) for f in findings] + [failure_to_json(f) for f in failures]
        return json.dumps(items, indent=2) + "\n"
    if output_format == "json-lines":
        items = [to_json(f, places) for f in findings] + [failure_to_json(f) for f in failures]
        return "".join(json.dumps(item) + "\n" for item in items)
    if output_format == "concise":
        return _render(color, [_header(f, cwd, places.of(f), unsafe_fixes) for f in findings])
    if output_format == "full":
        texts = []
        for finding in findings:
            placement = places.of(finding)
            texts.append(_header(finding, cwd, placement, unsafe_fixes))
            frame = _frame(finding, places.lines(finding.path, placement.cell), placement)
            if finding.help:
                frame.append("help", HELP_STYLE).append(": " + finding.help + "\n")
            if show_fixes and finding.fix is not None:
                frame.append(_fix_diff(finding, sources))
            texts.append(frame)
        return _render(color, texts)
    raise ValueError(f"unknown output format: {output_format!r}")


def to_json(finding: Finding, places: Places | None = None) -> dict:
    """The object ruff writes for a diagnostic, plus dp-lint's `name` and `confidence`
    (and `verification` after `check --verify`). In a notebook, `cell` is the cell's number
    (1-based among all cells, as ruff counts) and every row, the fix's edits included,
    counts from the cell's first line."""
    places = places or Places()
    placement = places.of(finding)
    fix = finding.fix.to_json() if finding.fix is not None else None
    if finding.fix is not None and fix is not None and placement.cell is not None:
        for edit, shown in zip(finding.fix.edits, fix["edits"]):
            edit_place = places.place(finding.path, edit.location, edit.end_location,
                                      insertion=edit.location == edit.end_location)
            shown["location"] = {"row": edit_place.location.row, "column": edit_place.location.column}
            shown["end_location"] = {"row": edit_place.end_location.row, "column": edit_place.end_location.column}
    data = {
        "cell": placement.cell,
        "code": finding.code,
        "end_location": {
            "column": placement.end_location.column,
            "row": placement.end_location.row,
        },
        "filename": os.path.abspath(finding.path),
        "fix": fix,
        "location": {"column": placement.location.column, "row": placement.location.row},
        "message": finding.message,
        "help": finding.help or None,
        "noqa_row": placement.location.row,
        "url": finding.url,
        "name": finding.name,
        "confidence": Confidence(finding.confidence).value,
    }
    if "verification" in finding.extra:
        data["verification"] = finding.extra["verification"]
    return data


def failure_to_json(failure: AnalysisFailure) -> dict:
    """A file, class or rule an analysis gave up on, in the shape of a finding (ruff writes
    a syntax error with `"code": null` the same way): no code, fix or rule URL, and row 1,
    column 1 as its position (it has none; a reader of `location` keeps working). `filename`
    is null when no single file is involved (a rule that failed). `kind` is `internal-error`
    (a dp-lint bug) or `limit` (a file dp-lint does not analyse by design)."""
    start = {"column": 1, "row": 1}
    return {
        "cell": None,
        "code": None,
        "end_location": dict(start),
        "filename": os.path.abspath(failure.path) if failure.path is not None else None,
        "fix": None,
        "location": dict(start),
        "message": f"dp-lint gave up analysing {failure}",
        "help": None,
        "noqa_row": 1,
        "url": None,
        "name": "analysis-gave-up",
        "confidence": None,
        "kind": "limit" if failure.limit else "internal-error",
    }


def _render(color: bool, texts: Sequence[Text]) -> str:
    buffer = io.StringIO()
    console = Console(
        file=buffer,
        force_terminal=color,
        no_color=not color,
        color_system="standard" if color else None,
        # Never wrap: a wrapped line breaks `path:row:col` for editors and grep.
        soft_wrap=True,
        width=10_000,
        highlight=False,
        markup=False,
        emoji=False,
    )
    for text in texts:
        console.print(text)
    return buffer.getvalue()


def _header(finding: Finding, cwd: Path | None, placement: Placement | None = None,
            unsafe_fixes: bool = False) -> Text:
    """`path:row:col: CODE [*] message` (`path:cell N:row:col: ...` in a notebook, as ruff
    writes it); `[*]` marks a finding that `dp-lint fix --apply` fixes (a safe fix; with
    `unsafe_fixes`, any fix)."""
    placement = placement or Placement(None, finding.location, finding.end_location)
    text = Text()
    text.append(display_path(finding.path, cwd), PATH_STYLE)
    text.append(":", PUNCT_STYLE)
    if placement.cell is not None:
        text.append(f"cell {placement.cell}")
        text.append(":", PUNCT_STYLE)
    text.append(str(placement.location.row))
    text.append(":", PUNCT_STYLE)
    text.append(str(placement.location.column))
    text.append(":", PUNCT_STYLE)
    text.append(" ")
    text.append(finding.code, CODE_STYLE)
    if finding.safe_fix or (unsafe_fixes and finding.fix is not None):
        text.append(" [*]", PUNCT_STYLE)
    text.append(" ")
    text.append(finding.message)
    if "verification" in finding.extra:  # `check --verify`
        text.append(" [", PUNCT_STYLE)
        text.append(finding.extra["verification"], VERIFY_STYLE)
        text.append("]", PUNCT_STYLE)
    return text




def _frame(finding: Finding, lines: list[str], placement: Placement | None = None) -> Text:
    """A ruff-like code frame: context lines, the finding's columns underlined with `^`
    (in a notebook, the lines of the finding's cell, numbered from its first line)."""
    frame = Text()
    placement = placement or Placement(None, finding.location, finding.end_location)
    start, end = placement.location, placement.end_location
    if not (0 < start.row <= len(lines)):
        if Confidence(finding.confidence) is Confidence.MEDIUM:
            frame.append("  = ", GUTTER_STYLE).append("confidence: medium\n")
        return frame
    end_row = min(max(end.row, start.row), len(lines))
    last_marked = min(end_row, start.row + MAX_SPAN_LINES - 1)
    first_shown = max(1, start.row - CONTEXT_LINES)
    truncated = last_marked < end_row
    last_shown = last_marked if truncated else min(len(lines), end_row + CONTEXT_LINES)
    width = len(str(last_shown))
    blank_gutter = " " * width + " |"

    frame.append(blank_gutter + "\n", GUTTER_STYLE)
    for row in range(first_shown, last_shown + 1):
        line = lines[row - 1]
        shown = line.expandtabs(4)
        frame.append(f"{row:>{width}} |", GUTTER_STYLE)
        frame.append((" " + shown).rstrip() + "\n")
        if start.row <= row <= last_marked:
            first_col = start.column if row == start.row else _indent(line) + 1
            last_col = end.column if row == end.row else len(line) + 1
            begin = len(line[: first_col - 1].expandtabs(4))
            stop = len(line[: last_col - 1].expandtabs(4))
            carets = "^" * max(1, stop - begin)
            frame.append(blank_gutter, GUTTER_STYLE)
            frame.append(" " + " " * begin)
            frame.append(carets, CODE_STYLE)
            if row == last_marked:
                frame.append(" " + finding.code, CODE_STYLE)
            frame.append("\n")
        if row == last_marked and truncated:
            frame.append(f"{'':>{width}} :", GUTTER_STYLE).append(" ...\n")
    frame.append(blank_gutter + "\n", GUTTER_STYLE)
    if Confidence(finding.confidence) is Confidence.MEDIUM:
        frame.append(" " * width + " = ", GUTTER_STYLE)
        frame.append("confidence: medium (one fact the rule relies on is inferred)\n")
    if finding.extra.get("verification_detail"):  # `check --verify`: which model, what happened
        frame.append(" " * width + " = ", GUTTER_STYLE)
        frame.append(f"verify: {finding.extra['verification_detail']}\n")
    return frame


def _fix_diff(finding: Finding, sources: Mapping[Path, str] | None) -> Text:
    """`--show-fixes`: the fix's title and applicability, and a unified diff of its edits
    (positions in the file as it is; a notebook's fix shows its title only)."""
    assert finding.fix is not None
    text = Text()
    text.append("fix", HELP_STYLE)
    text.append(f" ({finding.fix.applicability.value}): {finding.fix.message}\n")
    if finding.path.suffix == ".ipynb":
        return text
    source = (sources or {}).get(finding.path)
    if source is None:
        try:
            source = finding.path.read_text(encoding="utf-8")
        except (OSError, UnicodeError):
            return text
    try:
        fixed = apply_edits(source, finding.fix.edits)
    except (ValueError, IndexError):
        return text
    diff = difflib.unified_diff(source.splitlines(keepends=True), fixed.splitlines(keepends=True), n=1)
    for line in list(diff)[2:]:  # no ---/+++ header: the finding's path is above
        style = "green" if line.startswith("+") else "red" if line.startswith("-") else GUTTER_STYLE
        text.append("    " + line.rstrip("\r\n") + "\n", style if line[:1] in "+-@" else None)
    return text


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())

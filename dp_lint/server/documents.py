"""What the language server knows about one open document, without the protocol: its
findings (a `check` run on the unsaved text), the safe fixes applied together, hover text,
and positions in the text.

A document is checked the way `dp-lint check - --stdin-filename FILE` checks it: the text
stands for FILE, so the nearest `[tool.dp-lint]`, `per-file-ignores`, suppressions and the
project's other files (read from disk, for cross-file analysis) are those of FILE. With the
same text on disk, its findings are those of `dp-lint check FILE`.
"""

from __future__ import annotations

import bisect
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from dp_lint.catalogue.loader import find_entry
from dp_lint.core.failures import AnalysisFailure
from dp_lint.core.findings import Applicability, Finding, Location
from dp_lint.files.notebooks import is_notebook
from dp_lint.lint import run as runner
from dp_lint.lint.fix_loop import run_fixes
from dp_lint.lint.suppressions import Malformed

_LINE_BREAK = re.compile(r"\r\n|\r|\n")


@dataclass
class Checked:
    """One check of a document's text."""

    text: str
    findings: list[Finding] = field(default_factory=list)
    malformed: list[Malformed] = field(default_factory=list)
    internal_errors: list[AnalysisFailure] = field(default_factory=list)


def target_path(path: Path | None) -> Path:
    """The absolute path a document's findings carry (an unsaved, unnamed document: `-`)."""
    return Path(os.path.abspath(path if path is not None else runner.STDIN))


def _request(path: Path | None, text: str) -> runner.Request:
    return runner.Request(stdin_text=text, stdin_filename=path)


def is_checked(path: Path | None) -> bool:
    """Notebooks are left to `dp-lint check`: an editor's notebook is a set of cell
    documents, not the `.ipynb` file the notebook support reads."""
    return path is None or not is_notebook(path)


def check_document(path: Path | None, text: str) -> Checked:
    """Check `text` as the content of `path` (None: a document without a file).

    Raises `ConfigError` when the configuration that applies is invalid."""
    run = runner.run(_request(path, text))
    target = target_path(path)
    return Checked(
        text=text,
        findings=[f for f in run.findings if f.path == target],
        malformed=[bad for where, bad in run.malformed if where == target],
        internal_errors=list(run.internal_errors),
    )


def fix_all_safe(path: Path | None, text: str) -> str | None:
    """The text with every safe fix applied, in passes as `dp-lint fix --apply` does; None
    when nothing changes."""
    report = run_fixes(_request(path, text), unsafe=False)
    state = report.states.get(target_path(path))
    if state is None or state.text == text:
        return None
    return state.text


def has_safe_fix(findings: list[Finding]) -> bool:
    return any(f.fix is not None and f.fix.applicability is Applicability.SAFE for f in findings)


def fix_title(finding: Finding) -> str:
    """A code action's title: the fix's message, and whether it is safe."""
    assert finding.fix is not None
    unsafe = " (unsafe)" if finding.fix.applicability is Applicability.UNSAFE else ""
    return f"dp-lint ({finding.code}): {finding.fix.message}{unsafe}"


def hover_markdown(findings: list[Finding]) -> str:
    """Markdown for the findings under the cursor: the rule's summary, the message, its help
    (how to fix it and the Opacus error text), the fix if there is one, and a link to the
    rule's page."""
    parts = []
    for finding in findings:
        entry = find_entry(finding.code)
        summary = f": {entry.summary}" if entry is not None else ""
        lines = [f"**{finding.code}** `{finding.name}`{summary}", "", finding.message]
        if finding.help:
            lines += ["", finding.help]
        if finding.fix is not None:
            kind = "safe" if finding.fix.applicability is Applicability.SAFE else "unsafe, changes the model"
            lines += ["", f"Fix ({kind}): {finding.fix.message}."]
        lines += ["", f"[{finding.code} documentation]({finding.url})"]
        parts.append("\n".join(lines))
    return "\n\n---\n\n".join(parts)


class Positions:
    """Converts dp-lint's locations (1-based row, 1-based column in characters, the way
    `apply_edits` reads them) to a client's 0-based line and character, counted in the
    client's code units (`units(text)`: UTF-16 by default in LSP)."""

    def __init__(self, text: str, units: Callable[[str], int]):
        self.text = text
        self.units = units
        self.starts = [0] + [m.end() for m in _LINE_BREAK.finditer(text)]

    def offset(self, location: Location) -> int:
        """The character offset of `location` (as `dp_lint.fix.edits.apply_edits` computes it)."""
        if location.row - 1 >= len(self.starts):
            return len(self.text)
        return min(self.starts[location.row - 1] + location.column - 1, len(self.text))

    def line_column(self, offset: int) -> tuple[int, int]:
        """0-based line and character (client units) of a character offset."""
        offset = max(0, min(offset, len(self.text)))
        line = bisect.bisect_right(self.starts, offset) - 1
        return line, self.units(self.text[self.starts[line]:offset])

    def of(self, location: Location) -> tuple[int, int]:
        return self.line_column(self.offset(location))


__all__ = [
    "Checked",
    "Positions",
    "check_document",
    "fix_all_safe",
    "fix_title",
    "has_safe_fix",
    "hover_markdown",
    "is_checked",
    "target_path",
]

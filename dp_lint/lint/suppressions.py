"""Inline suppressions: `# dp-lint: ignore[DPL001]`, `# dp-lint: ignore`, `# noqa: DPL001`, `# noqa`.

A suppression applies to the findings whose first row (the row printed in
`path:row:col`) is the comment's row. Comments are found with Python's `tokenize`, so a
`#` inside a string is never taken for one. `# noqa` with codes of other tools only
(`# noqa: E501`) is not dp-lint's: it suppresses nothing here and is never reported.

Suppressions that suppress nothing are reported as DPL900 unused-suppression, with a
safe fix that removes the comment (or only the unused codes of its list).
`add_suppressions` writes `# dp-lint: ignore[CODE]` comments for `check --add-noqa`.
"""

from __future__ import annotations

import io
import re
import tokenize
from collections.abc import Callable, Collection, Iterable, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from pathlib import Path

from dp_lint.core.findings import Applicability, Edit, Finding, Fix, Location
from dp_lint.files.notebooks import Notebook, NotebookError, decode_notebook, is_notebook, parse_notebook_text
from dp_lint.files.source import SourceError
from dp_lint.files.textfiles import TextFileState, read_text_file, write_text_file

CODE = "DPL900"
NAME = "unused-suppression"
DIRECTIVE_WORDS = ("dp-lint", "noqa")

_DP_LINT_RE = re.compile(r"#\s*dp-lint\s*:", re.IGNORECASE)
_IGNORE_RE = re.compile(r"\s*ignore\b", re.IGNORECASE)
_CODE_LIST_RE = re.compile(r"\[(?P<codes>[^\]\n]*)\]")
_NOQA_RE = re.compile(r"#\s*noqa\b", re.IGNORECASE)
_NOQA_CODES_RE = re.compile(r"\s*:\s*(?P<codes>[A-Za-z]+[0-9]+(?:(?:\s*,\s*|\s+)[A-Za-z]+[0-9]+)*)")
_ITEM_RE = re.compile(r"[^,\s]+")
_OUR_CODE_RE = re.compile(r"^DPL[0-9]+$")


@dataclass
class CodeItem:
    code: str  # upper-cased
    start: int  # 0-based columns in the line
    end: int


@dataclass
class Directive:
    """One suppression in a comment. Columns are 0-based character offsets in the line."""

    kind: str  # "dp-lint" or "noqa"
    row: int
    start: int  # the directive's `#`
    end: int  # just after it
    codes: list[CodeItem] | None  # None: every rule
    list_start: int = 0  # the span holding the codes (inside `[...]` or after `noqa:`)
    list_end: int = 0
    comment_start: int = 0
    comment_end: int = 0
    used: set[str] = field(default_factory=set)

    line: str = ""  # the physical line

    @property
    def text(self) -> str:
        return self.line[self.start:self.end]

    def covers(self, code: str) -> bool:
        if self.codes is None:
            return True
        return any(item.code == code for item in self.codes)

    def our_codes(self) -> list[CodeItem]:
        """The codes dp-lint owns: all of a dp-lint comment's, the DPL ones of a noqa."""
        if self.codes is None:
            return []
        if self.kind == "dp-lint":
            return list(self.codes)
        return [item for item in self.codes if _OUR_CODE_RE.match(item.code)]


@dataclass
class Malformed:
    row: int
    column: int  # 1-based
    text: str


@dataclass
class FileComments:
    lines: list[str]  # physical lines, as tokenize reads them (line breaks kept)
    comments: dict[int, tuple[int, int]]  # row -> (start, end) of its comment token
    directives: dict[int, list[Directive]]
    malformed: list[Malformed]
    # Rows whose end lies inside a multi-line string, or that continue with a backslash:
    # a comment cannot be appended there.
    no_comment_rows: set[int]


def might_have_directives(text: str) -> bool:
    lowered = text.lower()
    return any(word in lowered for word in DIRECTIVE_WORDS)


def scan(text: str) -> FileComments:
    """Every comment, suppression and malformed `# dp-lint:` comment of a file."""
    lines = io.StringIO(text).readlines()
    comments: dict[int, tuple[int, int]] = {}
    no_comment_rows: set[int] = set()
    readline = io.StringIO(text).readline
    try:
        for token in tokenize.generate_tokens(readline):
            if token.type == tokenize.COMMENT:
                comments[token.start[0]] = (token.start[1], token.end[1])
            elif token.start[0] != token.end[0] and token.type not in (tokenize.NL, tokenize.NEWLINE):
                no_comment_rows.update(range(token.start[0], token.end[0]))
    except (tokenize.TokenError, SyntaxError):
        # Source newer than this Python's tokenizer (or broken): keep what was read.
        pass
    for row, line in enumerate(lines, start=1):
        stripped = line.rstrip("\r\n")
        if stripped.endswith("\\") and row not in comments:
            no_comment_rows.add(row)
    directives: dict[int, list[Directive]] = {}
    malformed: list[Malformed] = []
    for row, (start, end) in comments.items():
        line = lines[row - 1] if row - 1 < len(lines) else ""
        found, bad = parse_comment(line, row, start, end)
        if found:
            directives[row] = found
        malformed.extend(bad)
    return FileComments(lines, comments, directives, malformed, no_comment_rows)


def parse_comment(line: str, row: int, start: int, end: int) -> tuple[list[Directive], list[Malformed]]:
    """The suppressions in the comment `line[start:end]`."""
    directives: list[Directive] = []
    malformed: list[Malformed] = []
    position = start
    while True:
        hash_at = line.find("#", position, end)
        if hash_at < 0:
            break
        position = hash_at + 1
        dp_lint = _DP_LINT_RE.match(line, hash_at, end)
        if dp_lint:
            directive = _parse_dp_lint(line, row, hash_at, dp_lint.end(), end)
            if directive is None:
                following = line.find("#", dp_lint.end(), end)
                text = line[hash_at: following if following >= 0 else end].rstrip()
                malformed.append(Malformed(row, hash_at + 1, text))
            else:
                directive.comment_start, directive.comment_end = start, end
                directives.append(directive)
                position = directive.end
            continue
        noqa = _NOQA_RE.match(line, hash_at, end)
        if noqa:
            directive = _parse_noqa(line, row, hash_at, noqa.end(), end)
            if directive is not None:
                directive.comment_start, directive.comment_end = start, end
                directives.append(directive)
                position = directive.end
    return directives, malformed


def _parse_dp_lint(line: str, row: int, start: int, after_colon: int, end: int) -> Directive | None:
    ignore = _IGNORE_RE.match(line, after_colon, end)
    if not ignore:
        return None
    position = ignore.end()
    codes = None
    list_start = list_end = position
    listed = _CODE_LIST_RE.match(line, position, end)
    if listed:
        list_start, list_end = listed.start("codes"), listed.end("codes")
        codes = [
            CodeItem(m.group(0).upper(), list_start + m.start(), list_start + m.end())
            for m in _ITEM_RE.finditer(listed.group("codes"))
        ]
        if not codes:
            return None
        position = listed.end()
    # Only the end of the comment or another comment (`# reason`) may follow.
    rest = line[position:end]
    if rest.strip() and not rest.lstrip().startswith("#"):
        return None
    directive = Directive("dp-lint", row, start, position, codes, list_start, list_end)
    directive.line = line
    return directive


def _parse_noqa(line: str, row: int, start: int, after_word: int, end: int) -> Directive | None:
    listed = _NOQA_CODES_RE.match(line, after_word, end)
    if listed:
        list_start, list_end = listed.start("codes"), listed.end("codes")
        codes = [
            CodeItem(m.group(0).upper(), list_start + m.start(), list_start + m.end())
            for m in _ITEM_RE.finditer(listed.group("codes"))
        ]
        directive = Directive("noqa", row, start, listed.end(), codes, list_start, list_end)
    else:
        if re.match(r"\s*:", line[after_word:end]):
            return None  # a noqa colon without codes: not a suppression (flake8 warns about it)
        directive = Directive("noqa", row, start, after_word, None, after_word, after_word)
    directive.line = line
    return directive


# --- applying suppressions ------------------------------------------------------------


@dataclass
class SuppressionResult:
    findings: list[Finding]  # what is left, DPL900 findings included
    suppressed: int = 0
    malformed: list[tuple[Path, Malformed]] = field(default_factory=list)


def apply_suppressions(
    findings: Sequence[Finding],
    texts: dict[Path, str],
    *,
    enabled_for: Callable[[Path], AbstractSet[str]],
    all_codes: Iterable[str],
    unparsed: Collection[Path] = frozenset(),
    report_unused: bool = True,
) -> SuppressionResult:
    """Drop suppressed findings and add DPL900 findings for unused suppressions.

    `texts` maps each checked file to its text (files that could not be read are
    absent). `enabled_for(path)` gives the codes enabled for that file: a suppression of
    a code that did not run is never called unused. `unparsed` files (DPL000) are not
    judged at all.
    """
    all_codes = set(all_codes)
    by_path: dict[Path, list[Finding]] = {}
    for finding in findings:
        by_path.setdefault(finding.path, []).append(finding)
    result = SuppressionResult(findings=[])
    for path, text in texts.items():
        if path in unparsed or not might_have_directives(text):
            continue
        comments = scan(text)
        result.malformed.extend((path, bad) for bad in comments.malformed)
        kept = []
        for finding in by_path.get(path, []):
            directives = comments.directives.get(finding.location.row, [])
            covering = [d for d in directives if d.covers(finding.code)]
            if covering and finding.code != CODE:
                for directive in covering:
                    directive.used.add(finding.code)
                result.suppressed += 1
            else:
                kept.append(finding)
        by_path[path] = kept
        if report_unused:
            enabled = enabled_for(path)
            if CODE in enabled:
                by_path[path].extend(_unused(path, comments, enabled, all_codes))
    for items in by_path.values():
        result.findings.extend(items)
    result.findings.sort(key=Finding.sort_key)
    return result


def _unused(path: Path, comments: FileComments, enabled: AbstractSet[str], all_codes: set[str]) -> list[Finding]:
    findings = []
    rule_codes = {c for c in all_codes if c != CODE}
    for row, directives in sorted(comments.directives.items()):
        line = comments.lines[row - 1]
        for directive in directives:
            if directive.codes is None:
                if directive.kind == "noqa" or directive.used:
                    continue  # a bare noqa may be for another tool
                if not rule_codes <= enabled:
                    continue  # a rule that did not run might have been suppressed
                message = f"Unused suppression `{directive.text}`: no finding on this line."
                findings.append(_finding(path, directive, message, _remove_directive(directive, line),
                                         "Remove the comment."))
                continue
            ours = directive.our_codes()
            if any(item.code == CODE for item in ours):
                continue
            unknown = [i for i in ours if i.code not in all_codes]
            unused = [i for i in ours if i.code in all_codes and i.code in enabled and i.code not in directive.used]
            if not unknown and not unused:
                continue
            parts = []
            if unused:
                codes = " or ".join(i.code for i in unused)
                parts.append(f"no {codes} finding on this line")
            if unknown:
                codes = ", ".join(i.code for i in unknown)
                parts.append(f"unknown code{'s' if len(unknown) > 1 else ''} {codes}")
            drop = {id(i) for i in unused + unknown}
            remaining = [i for i in directive.codes if id(i) not in drop]
            if not remaining:
                fix = _remove_directive(directive, line)
                advice = "Remove the comment."
            else:
                fix = _rewrite_codes(directive, line, remaining)
                advice = f"Remove {', '.join(i.code for i in unused + unknown)} from it."
            message = f"Unused suppression `{directive.text}`: {'; '.join(parts)}."
            findings.append(_finding(path, directive, message, fix, advice))
    return findings


def _finding(path: Path, directive: Directive, message: str, fix: Fix, help: str = "") -> Finding:
    return Finding(
        code=CODE,
        name=NAME,
        message=message,
        help=help,
        path=path,
        location=Location(directive.row, directive.start + 1),
        end_location=Location(directive.row, directive.end + 1),
        fix=fix,
    )


def _line_body(line: str) -> str:
    return line.rstrip("\r\n")


def _remove_directive(directive: Directive, line: str) -> Fix:
    row = directive.row
    body = _line_body(line)
    comment = body[directive.comment_start:directive.comment_end]
    own = body[directive.start:directive.end]
    if comment.rstrip() == own:
        # The comment is only this directive.
        if not body[: directive.comment_start].strip():
            if line != body:  # the whole line, its line break included
                edit = Edit(Location(row, 1), Location(row + 1, 1), "")
            else:
                edit = Edit(Location(row, 1), Location(row, len(body) + 1), "")
        else:
            code_end = len(body[: directive.comment_start].rstrip())
            edit = Edit(Location(row, code_end + 1), Location(row, len(body) + 1), "")
    elif directive.start == directive.comment_start:
        # `# dp-lint: ignore[...]  # why`: keep `# why`.
        following = len(body) - len(body[directive.end:].lstrip())
        edit = Edit(Location(row, directive.start + 1), Location(row, following + 1), "")
    else:
        # `# why  # dp-lint: ignore[...]` (and maybe more after it).
        before = len(body[: directive.start].rstrip())
        edit = Edit(Location(row, before + 1), Location(row, directive.end + 1), "")
    return Fix(Applicability.SAFE, f"Remove `{directive.text}`", (edit,))


def _rewrite_codes(directive: Directive, line: str, remaining: list[CodeItem]) -> Fix:
    codes = ", ".join(item.code for item in remaining)
    edit = Edit(
        Location(directive.row, directive.list_start + 1),
        Location(directive.row, directive.list_end + 1),
        codes,
    )
    return Fix(Applicability.SAFE, "Remove the unused codes", (edit,))


# --- --add-noqa ------------------------------------------------------------------------


@dataclass
class AddResult:
    added: int = 0  # codes added
    files: list[Path] = field(default_factory=list)  # files written
    skipped: list[tuple[Path, int, str]] = field(default_factory=list)  # (path, row, why)
    errors: list[str] = field(default_factory=list)


def add_suppressions(findings: Sequence[Finding]) -> AddResult:
    """Add `# dp-lint: ignore[CODE]` to each finding's first row, merging into an existing
    dp-lint comment, and write each changed file atomically."""
    result = AddResult()
    by_path: dict[Path, dict[int, set[str]]] = {}
    for finding in findings:
        if finding.code in ("DPL000", CODE):
            continue  # a file that did not parse; a suppression's own finding
        by_path.setdefault(finding.path, {}).setdefault(finding.location.row, set()).add(finding.code)
    for path, rows in sorted(by_path.items()):
        notebook: Notebook | None = None
        try:
            if is_notebook(path):
                data = path.read_bytes()
                notebook = parse_notebook_text(decode_notebook(data))
                state = TextFileState(notebook.original, "utf-8", data.startswith(b"\xef\xbb\xbf"))
                text = notebook.text  # rows are rows of the virtual module
            else:
                state = read_text_file(path)
                text = state.text
        except (OSError, SourceError, LookupError, NotebookError) as exc:
            result.errors.append(f"cannot read {path}: {exc}")
            continue
        comments = scan(text)
        lines = list(comments.lines)
        changed_rows = []
        added = 0
        for row, codes in sorted(rows.items()):
            if row - 1 >= len(lines):
                continue
            line = lines[row - 1]
            new_line, count, why = _add_to_line(line, row, sorted(codes), comments)
            if why:
                result.skipped.append((path, row, why))
                continue
            lines[row - 1] = new_line
            changed_rows.append(row)
            added += count
        if added:
            try:
                if notebook is not None:
                    edits = [Edit(Location(row, 1), Location(row + 1, 1), lines[row - 1]) for row in changed_rows]
                    new_text = notebook.with_edits(edits).dumps()
                else:
                    new_text = "".join(lines)
                write_text_file(path, new_text, state)
            except NotebookError as exc:
                result.errors.append(f"cannot add suppressions to {path}: {exc.message}")
                continue
            except OSError as exc:
                result.errors.append(f"cannot write {path}: {exc.strerror or exc}; no suppression added")
                continue
            except UnicodeEncodeError as exc:
                result.errors.append(f"cannot write {path}: {exc}")
                continue
            result.added += added
            result.files.append(path)
    return result


def _add_to_line(line: str, row: int, codes: list[str], comments: FileComments) -> tuple[str, int, str]:
    body = _line_body(line)
    ending = line[len(body):]
    existing = [d for d in comments.directives.get(row, []) if d.kind == "dp-lint"]
    if existing:
        directive = existing[0]
        if directive.codes is None:
            return line, 0, ""
        present = [item.code for item in directive.codes]
        new = [c for c in codes if c not in present]
        if not new:
            return line, 0, ""
        merged = ", ".join(sorted(set(present) | set(new)))
        body = body[: directive.list_start] + merged + body[directive.list_end:]
        return body + ending, len(new), ""
    if row in comments.no_comment_rows:
        return line, 0, "the line ends inside a multi-line string or continues with a backslash"
    comment = f"# dp-lint: ignore[{', '.join(codes)}]"
    stripped = body.rstrip()
    return f"{stripped}  {comment}{ending}", len(codes), ""


# Reading and writing files as they are: dp_lint.files.textfiles (shared with `fix`).

"""Output formats for CI systems: `github`, `sarif`, `junit`, `gitlab`, and `--statistics`.

Paths are relative to the working directory (CI jobs run at the repository root); a
file outside it keeps its absolute path. Rows and columns are 1-based, columns count
Unicode code points and end columns are exclusive, as in dp-lint's other formats.

A finding in a notebook has no position in the file's JSON text that a CI viewer could
show, so (like ruff) these formats give it row 1, column 1 of the file and put
`cell N, row R, column C` at the start of its message; SARIF also carries the cell
position in the result's `properties`, and leaves out fixes (their edits are positions
in cells, not in the file).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

from dp_lint import __version__
from dp_lint.catalogue import loader as catalogue
from dp_lint.core.failures import AnalysisFailure
from dp_lint.core.findings import DOCS_URL, Confidence, Finding, Location
from dp_lint.report.sources import Placement, Places

SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
INFORMATION_URI = "https://dp-lint.readthedocs.io/"
SRCROOT = "%SRCROOT%"


def _relative(path: Path, cwd: Path) -> str | None:
    try:
        return Path(os.path.abspath(path)).relative_to(cwd).as_posix()
    except ValueError:
        return None


def _shown_path(path: Path, cwd: Path) -> str:
    return _relative(path, cwd) or os.path.abspath(path)


def level(finding: Finding) -> str:
    """`error`, or `warning` for a finding whose confidence is medium."""
    return "warning" if Confidence(finding.confidence) is Confidence.MEDIUM else "error"


# --- github ------------------------------------------------------------------------


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def _in_cell(placement: Placement) -> str:
    return f"cell {placement.cell}, row {placement.location.row}, column {placement.location.column}"


def _message(finding: Finding, placement: Placement, *, with_help: bool = False) -> str:
    """The message (and with `with_help`, its help after it), led by the cell position for
    a finding in a notebook."""
    text = finding.message
    if with_help and finding.help:
        text = f"{text} {finding.help}"
    if placement.cell is None:
        return text
    return f"{_in_cell(placement)}: {text}"


def _file_position(finding: Finding, placement: Placement) -> tuple:
    """Start and end in the file: the finding's own, or the file's start for a notebook."""
    if placement.cell is None:
        return finding.location, finding.end_location
    start = Location(1, 1)
    return start, start


def github(findings: Sequence[Finding], cwd: Path, places: Places | None = None) -> str:
    """One GitHub Actions workflow command (annotation) per finding."""
    places = places or Places()
    lines = []
    for finding in findings:
        placement = places.of(finding)
        start, end = _file_position(finding, placement)
        properties = [
            ("file", _shown_path(finding.path, cwd)),
            ("line", str(start.row)),
            ("col", str(start.column)),
            ("endLine", str(max(end.row, start.row))),
            ("endColumn", str(end.column)),
            ("title", f"{finding.code} {finding.name}"),
        ]
        joined = ",".join(f"{key}={_escape_property(value)}" for key, value in properties)
        text = _message(finding, placement)
        if finding.help:
            text += f"\nhelp: {finding.help}"
        lines.append(f"::{level(finding)} {joined}::{_escape_data(text)}\n")
    return "".join(lines)


# --- sarif -------------------------------------------------------------------------


def rule_metadata() -> list[dict]:
    """Code, name, summary, documentation (markdown) and fix availability of every code."""
    rows = []
    for entry in catalogue.load_catalogue():
        try:
            documentation = entry.documentation
        except OSError:
            documentation = entry.summary
        rows.append({"code": entry.code, "name": entry.name, "summary": entry.summary,
                     "documentation": documentation, "fix": entry.fix_availability})
    return sorted(rows, key=lambda row: row["code"])


def first_paragraph(markdown: str) -> str:
    """The first paragraph of a rule's documentation, below its title."""
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", markdown) if p.strip()]
    for paragraph in paragraphs:
        if paragraph.startswith("#"):
            continue
        return " ".join(paragraph.split())
    return ""


def _region(start, end) -> dict:
    region = {"startLine": max(1, start.row), "startColumn": max(1, start.column)}
    if (end.row, end.column) > (start.row, start.column):
        region["endLine"] = end.row
        region["endColumn"] = max(1, end.column)
    return region


def _artifact(path: Path, cwd: Path) -> dict:
    relative = _relative(path, cwd)
    if relative is not None:
        return {"uri": quote(relative), "uriBaseId": SRCROOT}
    return {"uri": Path(os.path.abspath(path)).as_uri()}


def sarif(findings: Sequence[Finding], cwd: Path, places: Places | None = None) -> str:
    """A SARIF 2.1.0 log with one run: every rule, and one result per finding."""
    places = places or Places()
    rules = rule_metadata()
    index = {row["code"]: position for position, row in enumerate(rules)}
    driver_rules = []
    for row in rules:
        driver_rules.append({
            "id": row["code"],
            "name": row["name"],
            "shortDescription": {"text": row["summary"]},
            "fullDescription": {"text": first_paragraph(row["documentation"]) or row["summary"]},
            "help": {"text": row["documentation"], "markdown": row["documentation"]},
            "helpUri": DOCS_URL.format(code=row["code"], name=row["name"]),
            "defaultConfiguration": {"level": "error"},
            "properties": {"fix": row["fix"]},
        })
    results = []
    for finding in findings:
        placement = places.of(finding)
        start, end = _file_position(finding, placement)
        properties: dict[str, Any] = {"confidence": Confidence(finding.confidence).value}
        result: dict[str, Any] = {
            "ruleId": finding.code,
            "level": level(finding),
            # SARIF has no per-result help: the message carries it (the rule's help is its page).
            "message": {"text": _message(finding, placement, with_help=True)},
            "locations": [{
                "physicalLocation": {
                    "artifactLocation": _artifact(finding.path, cwd),
                    "region": _region(start, end),
                }
            }],
            "properties": properties,
        }
        if placement.cell is not None:
            properties["cell"] = placement.cell
            properties["cellRegion"] = _region(placement.location, placement.end_location)
        if finding.code in index:
            result["ruleIndex"] = index[finding.code]
        if finding.fix is not None and finding.fix.edits and placement.cell is None:
            result["fixes"] = [{
                "description": {"text": finding.fix.message or f"Fix {finding.code}"},
                "artifactChanges": [{
                    "artifactLocation": _artifact(finding.path, cwd),
                    "replacements": [
                        {
                            "deletedRegion": _replacement_region(edit),
                            "insertedContent": {"text": edit.content},
                        }
                        for edit in finding.fix.edits
                    ],
                }],
                "properties": {"applicability": finding.fix.applicability.value},
            }]
        results.append(result)
    log = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "dp-lint",
                "version": __version__,
                "semanticVersion": __version__,
                "informationUri": INFORMATION_URI,
                "rules": driver_rules,
            }},
            "originalUriBaseIds": {SRCROOT: {"uri": cwd.as_uri().rstrip("/") + "/"}},
            "columnKind": "unicodeCodePoints",
            "results": results,
        }],
    }
    return json.dumps(log, indent=2, ensure_ascii=False) + "\n"


def _replacement_region(edit) -> dict:
    """An edit's range; an insertion is an empty region (end == start)."""
    return {
        "startLine": edit.location.row,
        "startColumn": edit.location.column,
        "endLine": edit.end_location.row,
        "endColumn": edit.end_location.column,
    }


# --- junit -------------------------------------------------------------------------

_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _xml_text(text: str) -> str:
    return _XML_INVALID.sub("\ufffd", text)


def junit(findings: Sequence[Finding], cwd: Path, files: Sequence[Path] | None = None,
          places: Places | None = None) -> str:
    """JUnit XML: one test case per checked file, one failure per finding in it."""
    places = places or Places()
    by_file: dict[Path, list[Finding]] = {}
    for path in files or ():
        by_file.setdefault(Path(os.path.abspath(path)), [])
    for finding in findings:
        by_file.setdefault(Path(os.path.abspath(finding.path)), []).append(finding)
    failures = sum(len(items) for items in by_file.values())
    failed_cases = sum(1 for items in by_file.values() if items)
    suites = ET.Element("testsuites", name="dp-lint", tests=str(len(by_file)), failures=str(failed_cases))
    suite = ET.SubElement(
        suites, "testsuite", name="dp-lint", tests=str(len(by_file)), failures=str(failed_cases),
        errors="0", skipped="0",
    )
    for path in sorted(by_file):
        shown = _shown_path(path, cwd)
        case = ET.SubElement(suite, "testcase", name=_xml_text(shown), classname="dp-lint", file=_xml_text(shown))
        for finding in by_file[path]:
            placement = places.of(finding)
            cell = f"cell {placement.cell}:" if placement.cell is not None else ""
            where = f"{shown}:{cell}{placement.location.row}:{placement.location.column}"
            failure = ET.SubElement(
                case, "failure",
                message=_xml_text(f"{finding.code} {finding.message}"),
                type=finding.code,
            )
            help_line = f"help: {finding.help}\n" if finding.help else ""
            failure.text = _xml_text(
                f"{where}: {finding.code} {finding.name}: {finding.message}\n{help_line}{finding.url}")
    suites.set("findings", str(failures))
    ET.indent(suites)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"


# --- gitlab ------------------------------------------------------------------------

_SEVERITY = {"error": "major", "warning": "minor"}


def gitlab(findings: Sequence[Finding], cwd: Path, places: Places | None = None) -> str:
    """GitLab Code Quality JSON. The fingerprint hashes the path, the code and the text of
    the finding's line (not its number), so it survives edits elsewhere in the file."""
    places = places or Places()
    issues = []
    seen: Counter = Counter()
    for finding in findings:
        shown = _shown_path(finding.path, cwd)
        placement = places.of(finding)
        lines = places.lines(finding.path, placement.cell)
        line_row = placement.location.row
        line_text = lines[line_row - 1].strip() if 0 < line_row <= len(lines) else ""
        start, end = _file_position(finding, placement)
        row = start.row
        key = (shown, finding.code, line_text)
        occurrence = seen[key]
        seen[key] += 1
        digest = hashlib.sha256(
            "\0".join([shown, finding.code, line_text, str(occurrence)]).encode("utf-8")
        ).hexdigest()
        issues.append({
            "type": "issue",
            "description": f"{finding.code} {_message(finding, placement)}",
            "check_name": f"{finding.code} {finding.name}",
            "content": {"body": f"{finding.help}\n\n{finding.url}" if finding.help else finding.url},
            "fingerprint": digest,
            "severity": _SEVERITY[level(finding)],
            "categories": ["Bug Risk"],
            "location": {
                "path": shown,
                "lines": {"begin": row, "end": max(end.row, row)},
            },
        })
    return json.dumps(issues, indent=2, ensure_ascii=False) + "\n"


# --- --statistics ------------------------------------------------------------------


# The `--statistics` row counting what an analysis gave up on (it has no rule code).
GAVE_UP = "analysis-gave-up"


def statistics(findings: Sequence[Finding], output_format: str,
               failures: Sequence[AnalysisFailure] = ()) -> str:
    """Counts per rule, most frequent first: `  3  DPL001  [*] detach-on-trainable-output`;
    then, when an analysis gave up on files, classes or rules, a row counting them (code
    `-` in text, `null` in JSON, with the number of `files` involved), so that the counts
    never look complete when they are not."""
    counts: Counter = Counter(f.code for f in findings)
    names = {f.code: f.name for f in findings}
    fixable = {f.code for f in findings if f.safe_fix}
    rows = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    files = len({f.path for f in failures if f.path is not None})
    if output_format in ("json", "json-lines"):
        data: list[dict[str, Any]] = [
            {"code": code, "name": names[code], "count": count, "fixable": code in fixable}
            for code, count in rows
        ]
        if failures:
            data.append({"code": None, "name": GAVE_UP, "count": len(failures), "fixable": False, "files": files})
        if output_format == "json-lines":
            return "".join(json.dumps(item) + "\n" for item in data)
        return json.dumps(data, indent=2) + "\n"
    table = [(count, code, names[code]) for code, count in rows]
    if failures:
        where = f" ({files} file{'s' * (files != 1)})" if files else ""
        table.append((len(failures), "-", GAVE_UP + where))
    if not table:
        return ""
    width = max(len(str(count)) for count, _, _ in table)
    code_width = max(len(code) for _, code, _ in table)
    marker = any(code in fixable for code, _ in rows)
    lines = []
    for count, code, name in table:
        flag = ("[*] " if code in fixable else "    ") if marker else ""
        lines.append(f"{count:>{width}}  {code:<{code_width}}  {flag}{name}")
    return "\n".join(lines) + "\n"

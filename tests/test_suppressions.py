"""Inline suppressions, DPL900 unused-suppression (with its fix) and `check --add-noqa`."""

from __future__ import annotations

import codecs
import json
import re
import stat
from pathlib import Path

import pytest
from test_cli import invoke, project, use_rules, write  # noqa: F401 - fixtures

from dp_lint.catalogue.rule import Rule
from dp_lint.core.findings import Finding, Location
from dp_lint.lint.suppressions import parse_comment, scan


class BadCallRule(Rule):
    """Flags every `bad(...)` call, from `bad` to the closing parenthesis."""

    code = "DPL101"
    name = "bad-call"
    summary = "Flags bad()."

    def check(self, project):
        for source in project.sources:
            for row, line in enumerate(re.split(r"\r\n|\r|\n", source.text), start=1):
                for match in re.finditer(r"\bbad\([^)]*\)", line):
                    yield Finding(self.code, self.name, "bad() called", source.path,
                                  Location(row, match.start() + 1), Location(row, match.end() + 1))


class WorseCallRule(BadCallRule):
    code = "DPL102"
    name = "worse-call"

    def check(self, project):
        worse = {source.path for source in project.sources if "worse" in source.text}
        for finding in super().check(project):
            if finding.path in worse:
                yield Finding(self.code, self.name, "worse", finding.path, finding.location, finding.end_location)


@pytest.fixture
def rules(use_rules):
    use_rules(BadCallRule, WorseCallRule)


def codes(result) -> list[tuple[int, str]]:
    """(row, code) of each finding; what an analysis gave up on (`"code": null`) is left out."""
    return [(d["location"]["row"], d["code"]) for d in json.loads(result.stdout) if d["code"] is not None]


def check_json(*args):
    return invoke("check", "--output-format", "json", *args)


def apply_fix(text: str, fix: dict) -> str:
    """Apply a JSON fix's edits (1-based rows/columns, end exclusive) to `text`."""
    lines = text.splitlines(keepends=True)
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))

    def offset(location):
        return starts[location["row"] - 1] + location["column"] - 1

    for edit in sorted(fix["edits"], key=lambda e: offset(e["location"]), reverse=True):
        text = text[: offset(edit["location"])] + edit["content"] + text[offset(edit["end_location"]):]
    return text


# --- parsing -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "comment, expected",
    [
        ("# dp-lint: ignore[DPL001]", [("dp-lint", ["DPL001"])]),
        ("# dp-lint: ignore[DPL001, DPL003]", [("dp-lint", ["DPL001", "DPL003"])]),
        ("# dp-lint: ignore[dpl001 DPL003]", [("dp-lint", ["DPL001", "DPL003"])]),
        ("#dp-lint:ignore[DPL001]", [("dp-lint", ["DPL001"])]),
        ("# DP-LINT: IGNORE", [("dp-lint", None)]),
        ("# dp-lint: ignore", [("dp-lint", None)]),
        ("# dp-lint: ignore  # frozen elsewhere", [("dp-lint", None)]),
        ("# noqa", [("noqa", None)]),
        ("# NOQA", [("noqa", None)]),
        ("# noqa: DPL001", [("noqa", ["DPL001"])]),
        ("# noqa:E501,DPL001", [("noqa", ["E501", "DPL001"])]),
        ("# noqa: E501 W291", [("noqa", ["E501", "W291"])]),
        ("# type: ignore  # noqa: DPL002", [("noqa", ["DPL002"])]),
        ("# why  # dp-lint: ignore[DPL001]  # noqa: E501", [("dp-lint", ["DPL001"]), ("noqa", ["E501"])]),
        ("# noqa:", []),
        ("# a note about noqa-like words", []),
        ("# see dp-lint docs", []),
    ],
)
def test_parse_comment(comment, expected):
    line = f"x = 1  {comment}\n"
    start = line.index("#")
    directives, malformed = parse_comment(line, 1, start, len(line) - 1)

    assert [(d.kind, None if d.codes is None else [c.code for c in d.codes]) for d in directives] == expected
    assert malformed == []


@pytest.mark.parametrize(
    "comment",
    ["# dp-lint: ignroe", "# dp-lint: ignore DPL001", "# dp-lint: ignore[]", "# dp-lint: ignore[DPL001",
     "# dp-lint: disable[DPL001]", "# dp-lint:"],
)
def test_malformed_dp_lint_comments(comment):
    line = f"x = 1  {comment}\n"
    directives, malformed = parse_comment(line, 4, 7, len(line) - 1)

    assert directives == []
    assert [(m.row, m.column, m.text) for m in malformed] == [(4, 8, comment)]


def test_hashes_inside_strings_are_not_comments():
    text = (
        's = "# dp-lint: ignore"\n'
        "t = '''\n# noqa\n'''\n"
        'u = f"{x} # noqa: DPL001"  # dp-lint: ignore[DPL002]\n'
    )
    comments = scan(text)

    assert sorted(comments.directives) == [5]
    assert [c.code for c in comments.directives[5][0].codes] == ["DPL002"]
    assert comments.no_comment_rows == {2, 3}


def test_scan_keeps_comments_read_before_a_tokenizer_error():
    comments = scan("x = 1  # dp-lint: ignore\ny = (\n")
    assert list(comments.directives) == [1]


# --- suppressing -------------------------------------------------------------------


@pytest.mark.parametrize(
    "line",
    [
        "y = bad()  # dp-lint: ignore[DPL101]",
        "y = bad()  # dp-lint: ignore[DPL1]  # prefixes are not codes: unknown, see below",
        "y = bad()  # dp-lint: ignore",
        "y = bad()  # noqa: DPL101",
        "y = bad()  # noqa: E501, DPL101",
        "y = bad()  # noqa",
        "y = bad()  # reason  # dp-lint: ignore[DPL101]",
    ],
)
def test_suppression_forms(rules, project, line):
    write(project / "m.py", f"x = 1\n{line}\n")

    found = codes(check_json("--select", "DPL101"))

    if "DPL1]" in line:
        assert found == [(2, "DPL101")]  # a prefix suppresses nothing
    else:
        assert found == []


def test_codes_of_other_tools_do_not_suppress(rules, project):
    write(project / "m.py", "y = bad()  # noqa: E501\n")

    assert codes(check_json("--select", "DPL101")) == [(1, "DPL101")]


def test_only_the_listed_codes_are_suppressed(rules, project):
    write(project / "m.py", "worse = 1\ny = bad()  # dp-lint: ignore[DPL102]\n")

    assert codes(check_json()) == [(2, "DPL101")]


def test_suppression_applies_to_the_first_row_of_a_finding(rules, project, use_rules):
    class MultiLine(BadCallRule):
        def check(self, project):
            for finding in super().check(project):
                yield Finding(self.code, self.name, "spans", finding.path, Location(finding.location.row - 1, 1),
                              finding.end_location)

    use_rules(MultiLine)
    write(project / "first.py", "y = f(  # dp-lint: ignore[DPL101]\n    bad())\n")
    write(project / "last.py", "y = f(\n    bad())  # dp-lint: ignore[DPL101]\n")

    result = check_json()

    assert [(Path(d["filename"]).name, d["location"]["row"], d["code"]) for d in json.loads(result.stdout)] == [
        ("last.py", 1, "DPL101"), ("last.py", 2, "DPL900")]


def test_a_hash_in_a_string_does_not_suppress(rules, project):
    write(project / "m.py", 'y = bad("# dp-lint: ignore")\n')

    assert codes(check_json("--select", "DPL101")) == [(1, "DPL101")]


# --- DPL900 ------------------------------------------------------------------------


def dpl900(project, text, *args):
    path = write(project / "m.py", text)
    data = json.loads(check_json(*args).stdout)
    return path, [d for d in data if d["code"] == "DPL900"]


@pytest.mark.parametrize(
    "text, message, fixed",
    [
        ("x = 1  # dp-lint: ignore[DPL101]\n",
         "Unused suppression `# dp-lint: ignore[DPL101]`: no DPL101 finding on this line. Remove the comment.",
         "x = 1\n"),
        ("x = 1  # dp-lint: ignore\n",
         "Unused suppression `# dp-lint: ignore`: no finding on this line. Remove the comment.",
         "x = 1\n"),
        ("y = bad()  # dp-lint: ignore[DPL101, DPL102]\n",
         "Unused suppression `# dp-lint: ignore[DPL101, DPL102]`: no DPL102 finding on this line. "
         "Remove DPL102 from it.",
         "y = bad()  # dp-lint: ignore[DPL101]\n"),
        ("x = 1  # dp-lint: ignore[DPL101, DPL999]\n",
         "Unused suppression `# dp-lint: ignore[DPL101, DPL999]`: no DPL101 finding on this line; "
         "unknown code DPL999. Remove the comment.",
         "x = 1\n"),
        ("y = bad()  # dp-lint: ignore[DPL101, E501]\n",
         "Unused suppression `# dp-lint: ignore[DPL101, E501]`: unknown code E501. Remove E501 from it.",
         "y = bad()  # dp-lint: ignore[DPL101]\n"),
        ("x = 1  # noqa: DPL101\n",
         "Unused suppression `# noqa: DPL101`: no DPL101 finding on this line. Remove the comment.",
         "x = 1\n"),
        ("x = 1  # noqa: E501, DPL101\n",
         "Unused suppression `# noqa: E501, DPL101`: no DPL101 finding on this line. Remove DPL101 from it.",
         "x = 1  # noqa: E501\n"),
        ("x = 1  # noqa: DPL101, DPL7\n",
         "Unused suppression `# noqa: DPL101, DPL7`: no DPL101 finding on this line; unknown code DPL7. "
         "Remove the comment.",
         "x = 1\n"),
        ("x = 1  # keep me  # dp-lint: ignore[DPL101]\n",
         None, "x = 1  # keep me\n"),
        ("x = 1  # dp-lint: ignore[DPL101]  # keep me\n",
         None, "x = 1  # keep me\n"),
        ("x = 1  # a  # dp-lint: ignore[DPL101]  # b\n",
         None, "x = 1  # a  # b\n"),
        ("# dp-lint: ignore[DPL101]\nx = 1\n",
         None, "x = 1\n"),
        ("x = 1\r\n    # dp-lint: ignore\r\ny = 2\r\n",
         None, "x = 1\r\ny = 2\r\n"),
        ("x = 1  # dp-lint: ignore[DPL101]",
         None, "x = 1"),
    ],
)
def test_unused_suppressions_and_their_fixes(rules, project, text, message, fixed):
    path, found = dpl900(project, text)

    (finding,) = found
    if message is not None:
        assert f"{finding['message']} {finding['help']}" == message
    assert finding["name"] == "unused-suppression"
    assert finding["fix"]["applicability"] == "safe"
    source = path.read_bytes().decode()
    assert apply_fix(source, finding["fix"]) == fixed


def test_location_of_dpl900_is_the_comment(rules, project):
    _, (finding,) = dpl900(project, "x = 1  # note  # dp-lint: ignore[DPL101]\n")

    assert finding["location"] == {"row": 1, "column": 16}
    assert finding["end_location"] == {"row": 1, "column": 41}


@pytest.mark.parametrize(
    "text",
    [
        "x = 1  # noqa\n",  # a bare noqa belongs to every tool
        "x = 1  # noqa: E501\n",  # another tool's code
        "x = 1  # dp-lint: ignore[DPL101, DPL900]\n",  # asks not to be reported
        "y = bad()  # dp-lint: ignore[DPL101]\n",  # used
        "y = bad()  # dp-lint: ignore\n",  # used
        "y = bad()  # noqa: DPL101\n",  # used
    ],
)
def test_suppressions_that_are_not_reported(rules, project, text):
    assert dpl900(project, text)[1] == []


def test_codes_of_rules_that_did_not_run_are_not_judged(rules, project):
    text = "x = 1  # dp-lint: ignore[DPL102]\nz = 2  # dp-lint: ignore\n"
    assert dpl900(project, text, "--select", "DPL101,DPL900")[1] == []
    assert dpl900(project, text, "--ignore", "DPL102")[1] == []
    assert [f["location"]["row"] for f in dpl900(project, text)[1]] == [1, 2]


def test_per_file_ignores_make_suppressions_unjudged(rules, project):
    write(project / "pyproject.toml", '[tool.dp-lint]\nper-file-ignores = { "m.py" = ["DPL102"] }\n')
    assert dpl900(project, "x = 1  # dp-lint: ignore[DPL102]\n")[1] == []


def test_dpl900_can_be_ignored_and_per_file_ignored(rules, project):
    assert dpl900(project, "x = 1  # dp-lint: ignore[DPL101]\n", "--ignore", "DPL900")[1] == []
    write(project / "pyproject.toml", '[tool.dp-lint]\nper-file-ignores = { "m.py" = ["DPL900"] }\n')
    assert dpl900(project, "x = 1  # dp-lint: ignore[DPL101]\n")[1] == []


def test_no_dpl900_after_an_internal_error(rules, project, use_rules):
    from test_cli import CrashingRule

    use_rules(BadCallRule, CrashingRule)
    write(project / "m.py", "x = 1  # dp-lint: ignore[DPL101]\n")

    result = check_json()

    assert result.exit_code == 2
    assert codes(result) == []
    gave_up = [d for d in json.loads(result.stdout) if d["code"] is None]
    assert [(d["name"], d["kind"], d["filename"]) for d in gave_up] == [("analysis-gave-up", "internal-error", None)]


def test_files_that_do_not_parse_are_not_judged(rules, project):
    write(project / "m.py", "x = (  # dp-lint: ignore[DPL101]\n")

    assert codes(check_json()) == [(1, "DPL000")]


def test_dpl900_concise_output_marks_the_fix(rules, project):
    write(project / "m.py", "x = 1  # dp-lint: ignore[DPL101]\n")

    result = invoke("check", "--output-format", "concise")

    assert result.stdout.splitlines()[0].startswith("m.py:1:8: DPL900 [*] Unused suppression")
    assert result.exit_code == 1


def test_malformed_comments_are_warned_about(rules, project):
    write(project / "m.py", "y = bad()  # dp-lint: ignore DPL101\n")

    result = invoke("check", "--output-format", "concise")

    assert (
        "warning: m.py:1:12: malformed suppression comment `# dp-lint: ignore DPL101`, ignored; "
        "write `# dp-lint: ignore` or `# dp-lint: ignore[DPL001, ...]`"
    ) in result.stderr
    assert "m.py:1:5: DPL101" in result.stdout


# --- --add-noqa --------------------------------------------------------------------


def add_noqa(*args):
    return invoke("check", "--add-noqa", *args)


def test_add_noqa_adds_comments_and_then_check_passes(rules, project):
    write(project / "a.py", "worse = 1\ny = bad()\nz = bad()  # why\n")
    write(project / "b.py", "y = bad()\n")

    result = add_noqa(".")

    assert result.exit_code == 0
    assert result.stderr.strip().endswith("Added 5 suppressions to 2 files.")
    assert result.stdout == ""
    assert (project / "a.py").read_text() == (
        "worse = 1\ny = bad()  # dp-lint: ignore[DPL101, DPL102]\nz = bad()  # why  # dp-lint: ignore[DPL101, DPL102]\n"
    )
    assert (project / "b.py").read_text() == "y = bad()  # dp-lint: ignore[DPL101]\n"
    assert invoke("check", ".").stdout == "All checks passed!\n"
    assert add_noqa(".").stderr.strip().endswith("Added 0 suppressions to 0 files.")


def test_add_noqa_merges_into_an_existing_comment(rules, project):
    write(project / "worse.py", "y = bad()  # dp-lint: ignore[DPL102]  # note\n")

    assert add_noqa().stderr.strip().endswith("Added 1 suppression to 1 file.")
    assert (project / "worse.py").read_text() == "y = bad()  # dp-lint: ignore[DPL101, DPL102]  # note\n"


def test_add_noqa_respects_selection(rules, project):
    write(project / "m.py", "worse = 1\ny = bad()\n")

    add_noqa("--select", "DPL102")

    assert (project / "m.py").read_text() == "worse = 1\ny = bad()  # dp-lint: ignore[DPL102]\n"


def test_add_noqa_keeps_encoding_bom_newlines_and_mode(rules, project):
    crlf = write(project / "crlf.py", b"x = 1\r\ny = bad()\r\n")
    bom = write(project / "bom.py", codecs.BOM_UTF8 + "s = 'é'\ny = bad()\n".encode())
    latin = write(project / "latin.py", b"# -*- coding: latin-1 -*-\ns = '\xe9'\ny = bad()\n")
    old_cr = write(project / "cr.py", b"x = 1\ry = bad()\r")
    crlf.chmod(0o640)

    add_noqa()

    assert crlf.read_bytes() == b"x = 1\r\ny = bad()  # dp-lint: ignore[DPL101]\r\n"
    assert stat.S_IMODE(crlf.stat().st_mode) == 0o640
    assert bom.read_bytes() == codecs.BOM_UTF8 + "s = 'é'\ny = bad()  # dp-lint: ignore[DPL101]\n".encode()
    assert latin.read_bytes() == b"# -*- coding: latin-1 -*-\ns = '\xe9'\ny = bad()  # dp-lint: ignore[DPL101]\n"
    assert old_cr.read_bytes() in (b"x = 1\ry = bad()  # dp-lint: ignore[DPL101]\r", b"x = 1\ry = bad()\r")
    assert not [p.name for p in project.iterdir() if p.name.endswith(".tmp")]


def test_add_noqa_writes_through_a_symlink(rules, project):
    real = write(project / "real" / "m.py", "y = bad()\n")
    (project / "link.py").symlink_to(real)

    add_noqa("link.py")

    assert (project / "link.py").is_symlink()
    assert real.read_text() == "y = bad()  # dp-lint: ignore[DPL101]\n"


def test_add_noqa_skips_lines_that_cannot_take_a_comment(rules, project):
    text = 'y = bad() + len("""\n""")\nz = bad() + \\\n    1\n'
    path = write(project / "m.py", text)

    result = add_noqa()

    assert path.read_text() == text
    assert "warning: m.py:1: no suppression comment added: the line ends inside a multi-line string" in result.stderr
    assert "warning: m.py:3: no suppression comment added" in result.stderr
    assert "Added 0 suppressions to 0 files." in result.stderr


def test_add_noqa_with_stdin_is_a_usage_error(rules, project):
    result = CliRunner_invoke(["check", "-", "--add-noqa"], "y = bad()\n")
    assert result.exit_code == 2
    assert "--add-noqa cannot be used with `-`" in result.stderr


def test_add_noqa_reports_unwritable_files(rules, project, monkeypatch):
    import dp_lint.lint.suppressions as suppressions

    write(project / "m.py", "y = bad()\n")

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(suppressions, "write_text_file", refuse)
    result = add_noqa()

    assert result.exit_code == 2
    assert "error: cannot write" in result.stderr and "Permission denied" in result.stderr


# --- standard input ----------------------------------------------------------------


def CliRunner_invoke(args, stdin):
    from click.testing import CliRunner

    from dp_lint.cli import main

    result = CliRunner().invoke(main, args, input=stdin)
    assert "Traceback" not in result.output
    return result


def test_stdin_with_a_filename(rules, project):
    write(project / "pyproject.toml", '[tool.dp-lint]\nper-file-ignores = { "tests/*" = ["DPL102"] }\n')

    result = CliRunner_invoke(
        ["check", "-", "--stdin-filename", "tests/worse.py", "--output-format", "concise"],
        "x = 1\ny = bad()  # dp-lint: ignore[DPL102]\n",
    )

    assert result.stdout.splitlines() == ["tests/worse.py:2:5: DPL101 bad() called", "Found 1 error."]
    assert not (project / "tests").exists()


def test_stdin_without_a_filename(rules, project):
    result = CliRunner_invoke(["check", "-", "--output-format", "concise"], "y = bad()\n")

    assert result.stdout.splitlines()[0] == "-:1:5: DPL101 bad() called"


def test_stdin_full_format_shows_the_code_frame(rules, project):
    result = CliRunner_invoke(["check", "-", "--output-format", "full", "--stdin-filename", "m.py"], "y = bad()\n")

    assert "1 | y = bad()" in result.stdout


def test_stdin_with_force_exclude(rules, project):
    write(project / "pyproject.toml", '[tool.dp-lint]\nextend-exclude = ["generated/"]\n')

    args = ["check", "-", "--stdin-filename", "generated/m.py", "--output-format", "concise"]
    assert CliRunner_invoke(args, "y = bad()\n").exit_code == 1
    result = CliRunner_invoke(args + ["--force-exclude"], "y = bad()\n")
    assert result.exit_code == 0 and result.stdout == "All checks passed!\n"


def test_stdin_usage_errors(rules, project):
    write(project / "m.py", "x = 1\n")
    assert "cannot be combined" in CliRunner_invoke(["check", "-", "m.py"], "").stderr
    assert "--stdin-filename needs `-`" in CliRunner_invoke(["check", "m.py", "--stdin-filename", "x.py"], "").stderr


def test_stdin_that_is_not_python(rules, project):
    result = CliRunner_invoke(["check", "-", "--stdin-filename", "m.py"], "def f(:\n")

    assert result.exit_code == 1 and "m.py:1:" in result.stdout and "DPL000" in result.stdout


def test_stdin_in_an_unknown_encoding(rules, project):
    result = CliRunner_invoke(["check", "-"], b"# coding: nope\nx = 1\n")

    assert result.exit_code == 2
    assert "cannot read standard input: unknown encoding" in result.stderr

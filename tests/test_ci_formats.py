"""`github`, `sarif` (validated against the SARIF 2.1.0 schema), `junit`, `gitlab`, `--statistics`, progress."""

from __future__ import annotations

import hashlib
import io
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from test_cli import FLAGGED, invoke, project, use_rules, write  # noqa: F401 - fixtures

from dp_lint.cli.check import progress_wanted
from dp_lint.core.findings import Applicability, Confidence, Edit, Finding, Fix, Location
from dp_lint.report.output import format_findings

jsonschema = pytest.importorskip("jsonschema")

SCHEMA_PATH = Path(__file__).resolve().parent / "data" / "sarif-schema-2.1.0.json"
EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def finding(path, row=2, col=5, end_row=2, end_col=10, code="DPL001", **kwargs) -> Finding:
    return Finding(
        code=code,
        name=kwargs.pop("name", "detach-on-trainable-output"),
        message=kwargs.pop("message", "output is detached"),
        path=Path(path),
        location=Location(row, col),
        end_location=Location(end_row, end_col),
        **kwargs,
    )


@pytest.fixture
def src(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = write(tmp_path / "models" / "net.py", "import torch\nz = f(x).detach()\nw = 1\n")
    return path


def validate_sarif(text: str) -> dict:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    log = json.loads(text)
    validator = jsonschema.Draft4Validator(schema)
    errors = sorted(validator.iter_errors(log), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors[:10])
    return log


# --- github ------------------------------------------------------------------------


def test_github_is_one_workflow_command_per_finding(src):
    text = format_findings([finding(src), finding(src, row=3, col=1, end_row=3, end_col=2, code="DPL003",
                                                  name="x", confidence=Confidence.MEDIUM)], "github")

    assert text.splitlines() == [
        "::error file=models/net.py,line=2,col=5,endLine=2,endColumn=10,"
        "title=DPL001 detach-on-trainable-output::output is detached",
        "::warning file=models/net.py,line=3,col=1,endLine=3,endColumn=2,title=DPL003 x::output is detached",
    ]


def test_github_escapes_data_and_properties(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    text = format_findings(
        [finding(tmp_path / "a,b:c%.py", message="100% wrong:\nsee, here\r")], "github"
    )

    assert text == (
        "::error file=a%2Cb%3Ac%25.py,line=2,col=5,endLine=2,endColumn=10,"
        "title=DPL001 detach-on-trainable-output::100%25 wrong:%0Asee, here%0D\n"
    )


def test_github_of_nothing_is_empty(src):
    assert format_findings([], "github") == ""


# --- sarif -------------------------------------------------------------------------


def test_sarif_validates_and_has_rules_results_and_fixes(src):
    fix = Fix(Applicability.SAFE, "Run under no_grad", (
        Edit(Location(2, 5), Location(2, 18), "f(x)"),
        Edit(Location(3, 1), Location(3, 1), "# inserted\n"),
    ))
    findings = [finding(src, fix=fix), finding(src, row=1, col=1, end_row=1, end_col=1, code="DPL000",
                                               name="syntax-error", confidence=Confidence.MEDIUM)]

    log = validate_sarif(format_findings(findings, "sarif"))

    run = log["runs"][0]
    driver = run["tool"]["driver"]
    assert log["version"] == "2.1.0" and driver["name"] == "dp-lint"
    rules = {rule["id"]: rule for rule in driver["rules"]}
    assert {"DPL000", "DPL001", "DPL900"} <= set(rules)
    dpl001 = rules["DPL001"]
    assert dpl001["name"] == "detach-on-trainable-output"
    assert dpl001["helpUri"] == "https://dp-lint.readthedocs.io/en/latest/rules/DPL001-detach-on-trainable-output/"
    assert dpl001["help"]["markdown"].startswith("# DPL001")
    assert dpl001["fullDescription"]["text"] and not dpl001["fullDescription"]["text"].startswith("#")
    assert run["columnKind"] == "unicodeCodePoints"
    assert run["originalUriBaseIds"]["%SRCROOT%"]["uri"].endswith("/")

    syntax, detach = run["results"]
    assert syntax["ruleId"] == "DPL000" and syntax["level"] == "warning"
    assert syntax["locations"][0]["physicalLocation"]["region"] == {"startLine": 1, "startColumn": 1}
    assert driver["rules"][detach["ruleIndex"]]["id"] == "DPL001"
    location = detach["locations"][0]["physicalLocation"]
    assert location["artifactLocation"] == {"uri": "models/net.py", "uriBaseId": "%SRCROOT%"}
    assert location["region"] == {"startLine": 2, "startColumn": 5, "endLine": 2, "endColumn": 10}
    (change,) = detach["fixes"][0]["artifactChanges"]
    assert detach["fixes"][0]["description"]["text"] == "Run under no_grad"
    assert change["replacements"] == [
        {"deletedRegion": {"startLine": 2, "startColumn": 5, "endLine": 2, "endColumn": 18},
         "insertedContent": {"text": "f(x)"}},
        {"deletedRegion": {"startLine": 3, "startColumn": 1, "endLine": 3, "endColumn": 1},
         "insertedContent": {"text": "# inserted\n"}},
    ]


def test_sarif_paths_outside_the_working_folder_are_file_uris(tmp_path, monkeypatch):
    (tmp_path / "cwd").mkdir()
    monkeypatch.chdir(tmp_path / "cwd")
    log = validate_sarif(format_findings([finding(tmp_path / "other dir" / "m.py")], "sarif"))

    uri = log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert uri.startswith("file:///") and uri.endswith("other%20dir/m.py")


def test_sarif_of_nothing_validates(src):
    log = validate_sarif(format_findings([], "sarif"))
    assert log["runs"][0]["results"] == []


def test_sarif_of_the_examples_with_unused_suppressions_validates(tmp_path, monkeypatch):
    """The real rules and a DPL900 fix, through the CLI."""
    import shutil

    shutil.copytree(EXAMPLES / "simsiam", tmp_path / "simsiam")
    write(tmp_path / "simsiam" / "extra.py", "x = 1  # dp-lint: ignore[DPL001]\n")
    monkeypatch.chdir(tmp_path)

    result = invoke("check", "--output-format", "sarif", ".")

    log = validate_sarif(result.stdout)
    results = log["runs"][0]["results"]
    assert [r["ruleId"] for r in results] == ["DPL900", "DPL001"]  # simsiam/extra.py, then simsiam/model.py
    assert results[0]["fixes"][0]["artifactChanges"][0]["replacements"][0]["deletedRegion"]["startLine"] == 1
    assert result.exit_code == 1


# The schema as published by OASIS (SARIF 2.1.0 errata01), pinned by the digest of its canonical
# JSON (sorted keys, no whitespace): an edited copy would validate whatever it was edited to accept.
SCHEMA_ID = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
SCHEMA_DIGEST = "5eb700624c5b3086978f75728b6c19e92731230b9cac87edf6296966089a9230"


def test_the_schema_copy_is_the_published_one():
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    assert schema["id"] == SCHEMA_ID
    canonical = json.dumps(schema, sort_keys=True, separators=(",", ":")).encode("utf-8")
    assert hashlib.sha256(canonical).hexdigest() == SCHEMA_DIGEST


# --- junit -------------------------------------------------------------------------


def test_junit_one_testcase_per_file_and_one_failure_per_finding(src, tmp_path):
    clean = write(tmp_path / "clean.py", "x = 1\n")
    text = format_findings(
        [finding(src), finding(src, row=3, code="DPL003", message="bad <&> \x01 chars")], "junit",
        files=[src, clean],
    )

    root = ET.fromstring(text.encode("utf-8"))
    assert root.tag == "testsuites" and root.get("tests") == "2" and root.get("failures") == "1"
    (suite,) = root
    cases = {case.get("name"): case for case in suite.iter("testcase")}
    assert set(cases) == {"clean.py", "models/net.py"}
    assert list(cases["clean.py"]) == []
    failures = cases["models/net.py"].findall("failure")
    assert [f.get("type") for f in failures] == ["DPL001", "DPL003"]
    assert failures[1].get("message") == "DPL003 bad <&> \ufffd chars"
    assert failures[0].text.startswith("models/net.py:2:5: DPL001 detach-on-trainable-output: output is detached")


def test_junit_without_files(src):
    root = ET.fromstring(format_findings([], "junit").encode())
    assert root.get("tests") == "0"


# --- gitlab ------------------------------------------------------------------------


def test_gitlab_code_quality(src):
    (issue,) = json.loads(format_findings([finding(src, confidence=Confidence.MEDIUM)], "gitlab"))

    assert issue["description"] == "DPL001 output is detached"
    assert issue["check_name"] == "DPL001 detach-on-trainable-output"
    assert issue["severity"] == "minor"
    assert issue["location"] == {"path": "models/net.py", "lines": {"begin": 2, "end": 2}}
    assert len(issue["fingerprint"]) == 64


def test_gitlab_fingerprint_follows_the_line_not_its_number(src):
    before = json.loads(format_findings([finding(src)], "gitlab"))[0]["fingerprint"]
    src.write_text("import torch\n\n\nz = f(x).detach()\nw = 1\n")
    after = json.loads(format_findings([finding(src, row=4, end_row=4)], "gitlab"))[0]["fingerprint"]
    other_code = json.loads(format_findings([finding(src, row=4, end_row=4, code="DPL002")], "gitlab"))[0]

    assert before == after
    assert other_code["fingerprint"] != after


def test_gitlab_fingerprints_are_unique_for_identical_lines(src):
    src.write_text("z = f(x).detach()\nz = f(x).detach()\n")
    issues = json.loads(format_findings([finding(src, row=1, end_row=1), finding(src)], "gitlab"))

    assert len({i["fingerprint"] for i in issues}) == 2


# --- --statistics ------------------------------------------------------------------


def test_statistics(use_rules, project):
    write(project / "a.py", FLAGGED)
    write(project / "b.py", FLAGGED + "z = 1  # flag\n")

    result = invoke("check", "--statistics", "--select", "DPL101", "--output-format", "concise")

    assert result.stdout.splitlines() == ["3  DPL101  flag-comment", "Found 3 errors."]
    assert result.exit_code == 1
    data = json.loads(invoke("check", "--statistics", "--output-format", "json").stdout)
    assert data == [
        {"code": "DPL101", "name": "flag-comment", "count": 3, "fixable": False},
        {"code": "DPL102", "name": "flag-comment-again", "count": 3, "fixable": False},
    ]


def test_statistics_marks_fixable_rules(use_rules, project):
    write(project / "m.py", "x = 1  # dp-lint: ignore[DPL101]\n" + FLAGGED)

    result = invoke("check", "--statistics", "--ignore", "DPL102", "--output-format", "concise")

    assert result.stdout.splitlines() == ["1  DPL101      flag-comment", "1  DPL900  [*] unused-suppression",
                                          "Found 2 errors.", "[*] 1 fixable with `dp-lint fix --apply`."]


def test_statistics_of_nothing(use_rules, project):
    write(project / "m.py", "x = 1\n")

    assert invoke("check", "--statistics").stdout == "All checks passed!\n"


# --- through the CLI -----------------------------------------------------------------


@pytest.mark.parametrize("output_format", ["github", "sarif", "junit", "gitlab", "json"])
def test_machine_formats_have_no_summary_line(use_rules, project, output_format):
    write(project / "m.py", FLAGGED)

    result = invoke("check", "--output-format", output_format)

    assert "Found" not in result.stdout and result.exit_code == 1


def test_output_file(use_rules, project):
    write(project / "m.py", FLAGGED)

    result = invoke("check", "--output-format", "github", "--output-file", "out/annotations.txt")

    assert result.stdout == "" and result.exit_code == 2
    assert "cannot write out/annotations.txt" in result.stderr
    result = invoke("check", "--output-format", "github", "-o", "annotations.txt")
    assert result.stdout == "" and result.exit_code == 1
    assert (project / "annotations.txt").read_text().count("::error ") == 2


def test_output_file_is_never_coloured(use_rules, project, monkeypatch):
    import dp_lint.cli.common as cli

    write(project / "m.py", FLAGGED)
    monkeypatch.setattr(cli, "is_terminal", lambda: True)

    invoke("check", "-o", "out.txt")

    text = (project / "out.txt").read_text()
    assert "\x1b[" not in text and text.endswith("Found 2 errors.\n")
    assert text.startswith("m.py:3:20: DPL101 this line asked to be flagged\n")  # concise, not full


# --- progress ----------------------------------------------------------------------


class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_progress_only_on_terminals_and_never_in_ci():
    tty, pipe = Terminal(), io.StringIO()

    assert progress_wanted(None, {}, tty, tty)
    assert not progress_wanted(None, {}, pipe, tty)
    assert not progress_wanted(None, {}, tty, pipe)
    assert not progress_wanted(None, {"CI": "true"}, tty, tty)
    assert progress_wanted(True, {"CI": "true"}, pipe, pipe)
    assert not progress_wanted(False, {}, tty, tty)


def test_forced_progress_bar_is_drawn_on_stderr_and_cleared(use_rules, project):
    write(project / "m.py", FLAGGED)

    result = invoke("check", "--show-progress", "--output-format", "concise")

    assert result.stdout.splitlines()[-1] == "Found 2 errors."
    assert "\x1b" not in result.stdout


def test_no_progress_output_in_a_pipe(use_rules, project):
    for index in range(60):
        write(project / f"m{index}.py", "x = 1\n")

    result = invoke("check")

    assert result.stdout == "All checks passed!\n" and result.stderr == ""

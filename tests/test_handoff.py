"""The steps after the check reuse what it built: suppressions, code frames, `check --verify`
and `fix --verify` read and parse no file again."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_cli import FLAGGED, RecordingProject, invoke, project, use_rules, write  # noqa: F401 - fixtures
from test_fix import BYOL

import dp_lint.verify.check_findings as check_findings
import dp_lint.verify.targets as verify_targets
from dp_lint.lint import run as runner
from dp_lint.lint.fix_loop import run_fixes
from dp_lint.verify.fixes import verify_fixes


@pytest.fixture
def python_reads(monkeypatch):
    """The names of the .py files read, one entry per read."""
    reads: list[str] = []
    read_bytes = Path.read_bytes

    def counting(self):
        if self.suffix == ".py":
            reads.append(self.name)
        return read_bytes(self)

    monkeypatch.setattr(Path, "read_bytes", counting)
    return reads


@pytest.fixture
def no_second_parse(monkeypatch):
    def parse_again(*args, **kwargs):
        raise AssertionError("a file was discovered or parsed again after the check")

    monkeypatch.setattr(verify_targets, "discover", parse_again)
    monkeypatch.setattr(verify_targets, "parse_source", parse_again)


def test_check_reads_each_file_once(use_rules, project, python_reads):
    write(project / "flagged.py", FLAGGED)  # a finding, shown with its code frame
    write(project / "suppressed.py", "x = 1  # dp-lint: ignore[DPL101]\n")  # DPL900: unused
    write(project / "broken.py", "def broken(:\n")  # DPL000, with its frame

    result = invoke("check", "--output-format", "full", ".")

    assert sorted(python_reads) == ["broken.py", "flagged.py", "suppressed.py"]
    assert "y = torch.ones(2)" in result.output and "def broken(:" in result.output
    assert "DPL900" in result.output and result.exit_code == 1


def test_the_run_hands_out_its_project_and_texts(use_rules, project):
    good = write(project / "good.py", FLAGGED).resolve()
    broken = write(project / "broken.py", "def broken(:\n").resolve()

    run = runner.run(runner.Request(paths=[project]))

    assert isinstance(run.project, RecordingProject)
    assert [source.path.resolve() for source in run.project.sources] == [good]
    assert {path.resolve(): text for path, text in run.texts.items()} == {
        good: FLAGGED, broken: "def broken(:\n",
    }


def test_check_verify_places_findings_in_the_checked_project(use_rules, project, monkeypatch, no_second_parse):
    write(project / "flagged.py", FLAGGED)
    seen = {}

    def targets_for_findings(project_, findings, root, config):
        seen.update(project=project_, config=config)
        return ["no model here"] * len(findings)

    monkeypatch.setattr(check_findings, "targets_for_findings", targets_for_findings)

    result = invoke("check", "--verify", "--no-assume-batch-first", "--output-format", "json", ".")

    findings = json.loads(result.stdout)
    assert findings and all(f["verification"] == "not verified: no model here" for f in findings)
    assert isinstance(seen["project"], RecordingProject)
    assert [source.path.name for source in seen["project"].sources] == ["flagged.py"]
    assert seen["config"].assume_batch_first is False  # the run's configuration, command line included


def test_fix_verify_places_findings_in_the_project_as_read(tmp_path, monkeypatch, no_second_parse):
    model = tmp_path / "byol.py"
    model.write_text(BYOL, encoding="utf-8")
    report = run_fixes(runner.Request(paths=[tmp_path]))
    assert report.changed and report.original_project is not None
    assert [source.text for source in report.original_project.files] == [BYOL]  # before any fix
    seen = {}

    def targets_for_findings(project_, findings, root, config):
        seen.update(project=project_, config=config)
        return ["no model here"] * len(findings)

    monkeypatch.setattr("dp_lint.verify.fixes.targets_for_findings", targets_for_findings)

    verification = verify_fixes(report)

    assert seen["project"] is report.original_project and seen["config"] is report.config
    assert verification.confirmed_files == set()
    assert verification.lines and all(" — not verified: " in line and line.endswith(": no model here")
                                      for line in verification.lines)

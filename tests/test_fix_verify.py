"""`dp-lint fix --verify`: before -> after verdicts, and only confirmed fixes written."""

from __future__ import annotations

import shutil
from pathlib import Path

from click.testing import CliRunner
from runtime_cases import require_opacus

from dp_lint.cli import main

require_opacus()

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def test_fix_verify_apply_writes_only_confirmed_fixes(tmp_path, monkeypatch):
    project = tmp_path / "examples"
    shutil.copytree(EXAMPLES, project)
    monkeypatch.chdir(project)
    result = CliRunner().invoke(main, ["fix", "--verify", "--apply", "."])
    out = result.stdout
    assert (
        "DPL001 simsiam/model.py:24 — simsiam/model.py:SimSiam: before: crash (ValueError: Per sample gradient "
        "is not initialized" in out
    )
    simsiam = next(line for line in out.splitlines() if line.startswith("DPL001 simsiam/model.py:24"))
    assert "→ after: ok (max error" in simsiam and simsiam.endswith("ordinary outputs and gradients unchanged")
    # Confirmed fixes are written ...
    assert "with torch.no_grad():" in (project / "simsiam" / "model.py").read_text()
    assert "self.teacher.requires_grad_(False)" in (project / "mean_teacher" / "model.py").read_text()
    resnet = (project / "resnet_block" / "model.py").read_text()
    assert "nn.ReLU(inplace=False)" in resnet and "out = out + identity" in resnet
    # ... the others are not: the vision model still crashes on its BatchNorm after the safe fix.
    assert "Not written: vision/model.py" in out
    assert (project / "vision" / "model.py").read_text() == (EXAMPLES / "vision" / "model.py").read_text()
    assert "Fixed 4 findings in 3 files." in out
    assert result.exit_code == 1  # findings are left for manual work


def test_fix_verify_without_apply_changes_nothing(tmp_path, monkeypatch):
    project = tmp_path / "simsiam"
    shutil.copytree(EXAMPLES / "simsiam", project)
    monkeypatch.chdir(project)
    result = CliRunner().invoke(main, ["fix", "--verify", "."])
    assert "before: crash" in result.stdout and "after: ok" in result.stdout
    assert (project / "model.py").read_text() == (EXAMPLES / "simsiam" / "model.py").read_text()
    assert result.exit_code == 0

"""Ruff-shaped output (short message, help line, `[*]` for safe fixes only, the fixable
summary, `check --fix`/`--diff`, `--quiet`, `--show-fixes`) and fix reports that are true
of the files as they are on disk after the command (issue 14, items 3 and 4)."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner

from dp_lint.cli import main
from dp_lint.core.findings import split_message

# DPL003 and DPL001 have safe fixes (a freeze, a no_grad block that adds an import line);
# DPL101's fix (GroupNorm) is unsafe. The freeze inserts a line above the BatchNorm.
MODEL = """\
import copy

import torch.nn as nn
import torch.nn.functional as F
from opacus import PrivacyEngine


class BYOL(nn.Module):
    def __init__(self):
        super().__init__()
        self.online = nn.Sequential(nn.Linear(8, 8), nn.ReLU(), nn.Linear(8, 8))
        self.target = copy.deepcopy(self.online)
        self.norm = nn.BatchNorm1d(8)

    def forward(self, x1, x2):
        p = self.norm(self.online(x1))
        t = self.target(x2).detach()
        return F.mse_loss(p, t, reduction='none').sum(-1)


model = BYOL()
engine = PrivacyEngine()
model, optimizer, loader = engine.make_private(module=model, optimizer=None, data_loader=None,
                                               noise_multiplier=1.0, max_grad_norm=1.0)
"""

BN_ROW = 13  # `self.norm = nn.BatchNorm1d(8)` as the file is written


@pytest.fixture
def model(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".git").mkdir()  # the project root
    path = tmp_path / "model.py"
    path.write_text(MODEL, encoding="utf-8")
    return path


def invoke(*args):
    result = CliRunner().invoke(main, list(args))
    assert "Traceback" not in result.output, result.output
    return result


def check_json(*args) -> list[dict]:
    return json.loads(invoke("check", "--output-format", "json", *args).stdout)


# --- output ------------------------------------------------------------------------------


def test_full_format_has_a_short_message_and_a_help_line(model):
    out = invoke("check", "--output-format", "full").stdout
    header = next(line for line in out.splitlines() if "DPL101" in line and line.startswith("model.py"))
    assert "`make_private` at line 23 raises UnsupportedModuleError" in header
    assert "GroupNorm" not in header  # the fix is on the help line
    assert "help: Replace it with `nn.GroupNorm(math.gcd(32, C), C)`" in out


def test_json_keeps_message_and_help(model):
    by_code = {f["code"]: f for f in check_json()}
    assert by_code["DPL101"]["help"].startswith("Replace it with `nn.GroupNorm")
    assert "GroupNorm" not in by_code["DPL101"]["message"]
    assert "requires_grad_(False)" in by_code["DPL003"]["help"]


def test_fixable_mark_and_summary_count_safe_fixes_only(model):
    out = invoke("check", "--output-format", "concise").stdout.splitlines()
    marks = {line.split()[1]: "[*]" in line for line in out if line.startswith("model.py")}
    assert marks == {"DPL003": True, "DPL101": False, "DPL001": True}
    assert out[-2:] == ["Found 3 errors.",
                        "[*] 2 fixable with `dp-lint fix --apply` (1 more with --unsafe-fixes)."]


def test_unsafe_fixes_count_as_fixable_with_the_flag(model):
    out = invoke("check", "--output-format", "concise", "--unsafe-fixes").stdout.splitlines()
    assert all("[*]" in line for line in out if line.startswith("model.py"))
    assert out[-1] == "[*] 3 fixable with `dp-lint fix --apply --unsafe-fixes`."


def test_only_unsafe_fixes(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    text = MODEL.replace("        self.target = copy.deepcopy(self.online)\n", "").replace(
        "        t = self.target(x2).detach()\n", "        t = x2\n")
    (tmp_path / "model.py").write_text(text)
    out = invoke("check", "--output-format", "concise").stdout.splitlines()
    assert out[-2:] == ["Found 1 error.",
                        "No safe fixes available (1 fixable with `dp-lint fix --apply --unsafe-fixes`)."]


def test_quiet_prints_findings_only(model):
    out = invoke("check", "--output-format", "concise", "--quiet").stdout.splitlines()
    assert len(out) == 3 and all(line.startswith("model.py:") for line in out)


def test_show_fixes_shows_each_fix_as_a_diff(model):
    out = invoke("check", "--output-format", "full", "--show-fixes").stdout
    assert "fix (safe): Freeze `self.target` after its assignment" in out
    assert "+        self.target.requires_grad_(False)" in out
    assert "fix (unsafe): Replace BatchNorm1d with GroupNorm" in out


def test_check_diff_is_fix_and_check_fix_is_fix_apply(model):
    diff = invoke("check", "--diff")
    assert diff.stdout == invoke("fix").stdout
    assert model.read_text() == MODEL
    applied = invoke("check", "--fix")
    assert applied.exit_code == 1  # DPL101 is left (its fix is unsafe)
    assert "Fixed 2 findings in 1 file." in applied.stdout
    assert "self.target.requires_grad_(False)" in model.read_text()


def test_check_fix_with_unsafe_fixes_applies_them(model):
    result = invoke("check", "--fix", "--unsafe-fixes")
    assert result.exit_code == 0, result.output
    assert "GroupNorm" in model.read_text()


@pytest.mark.parametrize("extra", [["--diff"], ["--output-format", "json"], ["--add-noqa"], ["--statistics"]])
def test_check_fix_refuses_options_of_check_only(model, extra):
    result = invoke("check", "--fix", *extra)
    assert result.exit_code == 2 and "cannot be combined" in result.output
    assert model.read_text() == MODEL


def test_fix_show_fixes_lists_what_it_fixed(model):
    out = invoke("fix", "--apply", "--show-fixes").stdout
    assert "  model.py: DPL003 " in out and "(Freeze `self.target` after its assignment)" in out


def test_fix_quiet(model):
    result = invoke("fix", "--apply", "--quiet")
    assert result.stdout == "" and result.exit_code == 1


@pytest.mark.parametrize("text, message, help_text", [
    ("A is wrong. Do B.", "A is wrong.", "Do B."),
    ("`nn.Linear` at `m.x` fails: e.g. it raises `X. Y`. Fix it.", "`nn.Linear` at `m.x` fails: e.g. it raises `X. Y`.",
     "Fix it."),
    ("Only one sentence (with a. B inside) here.", "Only one sentence (with a. B inside) here.", ""),
    ("Calls .detach(). `x` is fine.", "Calls .detach().", "`x` is fine."),
])
def test_split_message(text, message, help_text):
    assert split_message(text) == (message, help_text)


# --- fix reports ---------------------------------------------------------------------------


def test_diff_mode_reports_positions_of_the_file_on_disk(model):
    # The fixes insert an import and a freeze above the BatchNorm: the fixed text has it at
    # row 15, the file (not written) at row 13, and its message names the engine call's row
    # as the file has it.
    result = invoke("fix")
    left = [line for line in result.stdout.splitlines() if "DPL101" in line]
    assert left and left[0].strip().startswith(f"model.py:{BN_ROW}:21: DPL101")
    assert "`make_private` at line 23" in left[0]


def test_apply_reports_positions_of_the_written_file(model):
    result = invoke("fix", "--apply")
    left = [line for line in result.stdout.splitlines() if "DPL101" in line]
    fresh = [f for f in check_json() if f["code"] == "DPL101"]
    assert left[0].strip().startswith(f"model.py:{fresh[0]['location']['row']}:{fresh[0]['location']['column']}: DPL101")
    assert fresh[0]["location"]["row"] == BN_ROW + 2


def _read_only(path: Path) -> None:
    path.chmod(stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)  # 444


def test_read_only_file_is_never_written_by_fix(model):
    _read_only(model)
    try:
        result = invoke("fix", "--apply")
    finally:
        model.chmod(0o644)
    assert model.read_text() == MODEL
    assert result.exit_code == 2
    assert "Fixed 0 findings in 0 files." in result.stdout
    assert "read-only" in result.output and "not written" in result.output
    # What is left is what a fresh check reports: all three, where the file has them.
    left = [line.strip() for line in result.stdout.splitlines() if line.startswith("  model.py:")]
    fresh = invoke("check", "--output-format", "concise", "--quiet").stdout.splitlines()
    assert [line.split(" [*]")[0].split(" `")[0] for line in left] == \
        [line.split(" [*]")[0].split(" `")[0] for line in fresh]


def test_read_only_file_is_never_written_by_add_noqa(model):
    _read_only(model)
    try:
        result = invoke("check", "--add-noqa")
    finally:
        model.chmod(0o644)
    assert model.read_text() == MODEL
    assert result.exit_code == 2
    assert "read-only" in result.output
    assert "Added 0 suppressions to 0 files." in result.output


def test_fixed_counts_only_files_written(tmp_path, monkeypatch, model):
    second = tmp_path / "other.py"
    second.write_text(MODEL)
    _read_only(second)
    try:
        result = invoke("fix", "--apply")
    finally:
        second.chmod(0o644)
    assert "Fixed 2 findings in 1 file." in result.stdout
    assert second.read_text() == MODEL and model.read_text() != MODEL
    assert result.exit_code == 2


def test_no_temporary_file_name_in_write_errors(model, monkeypatch):
    import dp_lint.files.textfiles as textfiles

    def failing_replace(source, target):
        raise PermissionError(13, "Permission denied", os.fspath(source))

    monkeypatch.setattr(textfiles.os, "replace", failing_replace)
    for args in (["fix", "--apply"], ["check", "--add-noqa"]):
        result = invoke(*args)
        assert result.exit_code == 2
        assert "Permission denied" in result.output
        assert ".dp-lint.tmp" not in result.output, result.output
        assert model.read_text() == MODEL
    assert not [p for p in model.parent.iterdir() if p.name.endswith(".dp-lint.tmp")]

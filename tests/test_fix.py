"""`dp-lint fix`: the guarantees of the fix issue, each tested."""

from __future__ import annotations

import codecs
import json
import os
import stat
import textwrap
from pathlib import Path

import libcst as cst
import pytest
from click.testing import CliRunner

from dp_lint.cli import main
from dp_lint.core.findings import Applicability, Edit, Finding, Fix, Location
from dp_lint.files.discovery import discover
from dp_lint.lint.check import check_files
from dp_lint.lint.fix_loop import run_fixes, write_fixes

BYOL = '''\
"""A BYOL-style model: 'single quotes', "double quotes" and comments must survive."""
import copy

import torch.nn as nn
import torch.nn.functional as F


class BYOL(nn.Module):
    def __init__(self):
        super().__init__()
        # the online network
        self.online = nn.Sequential(nn.Linear(8, 8), nn.ReLU(), nn.Linear(8, 8))

        self.target = copy.deepcopy(self.online)  # EMA copy

    def forward(self, x1, x2):
        p = self.online(x1)  # online view
        # the target view
        t = self.target(x2).detach()  # stop-gradient
        return F.mse_loss(p, t, reduction='none').sum(-1)
'''


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def fix_apply(*paths, unsafe=False):
    report = run_fixes(discover(list(paths)), unsafe=unsafe)
    assert write_fixes(report) == []
    return report


def test_fix_keeps_everything_it_does_not_touch(tmp_path):
    path = write(tmp_path / "byol.py", BYOL)
    report = fix_apply(path)
    fixed = path.read_text()
    assert {f.code for f in report.fixed} == {"DPL001", "DPL003"}
    expected = BYOL.replace(
        "        t = self.target(x2).detach()  # stop-gradient\n",
        "        with torch.no_grad():\n            t = self.target(x2)  # stop-gradient\n",
    ).replace(
        "        self.target = copy.deepcopy(self.online)  # EMA copy\n",
        "        self.target = copy.deepcopy(self.online)  # EMA copy\n        self.target.requires_grad_(False)\n",
    ).replace("import copy\n", "import copy\n\nimport torch.nn as nn\nimport torch.nn.functional as F\nimport torch\n", 1).replace(
        "\nimport torch.nn as nn\nimport torch.nn.functional as F\n\n\nclass", "\n\nclass", 1
    )
    assert fixed == expected
    cst.parse_module(fixed)


def test_fix_is_idempotent_and_check_is_clean_afterwards(tmp_path):
    path = write(tmp_path / "byol.py", BYOL)
    fix_apply(path)
    once = path.read_text()
    second = fix_apply(path)
    assert second.fixed == [] and path.read_text() == once
    assert check_files([path]).findings == []


def test_fix_without_apply_changes_nothing_and_prints_a_diff(tmp_path):
    path = write(tmp_path / "byol.py", BYOL)
    result = CliRunner().invoke(main, ["fix", str(path)])
    assert path.read_text() == BYOL
    assert "-        t = self.target(x2).detach()  # stop-gradient" in result.stdout
    assert "+        with torch.no_grad():" in result.stdout
    assert "Would fix 2 findings in 1 file." in result.stdout
    assert result.exit_code == 0  # nothing would be left


def test_fix_apply_exit_status_and_manual_work_listed(tmp_path):
    path = write(tmp_path / "m.py", """
        import torch.nn as nn
        from opacus.layers import DPMultiheadAttention

        class M(nn.Module):
            def __init__(self):
                super().__init__()
                self.bn = nn.BatchNorm1d(8)
                self.attn = DPMultiheadAttention(8, 2, batch_first=True)

            def forward(self, x):
                return self.attn(self.bn(x), x, x)[0]
        """)
    runner = CliRunner()
    result = runner.invoke(main, ["fix", "--apply", str(path)])
    assert result.exit_code == 1
    assert "Fixed 0 findings in 0 files." in result.stdout
    assert "2 left for manual work:" in result.stdout
    assert "DPL101" in result.stdout and "(unsafe fix available: --unsafe-fixes)" in result.stdout
    assert "DPL004" in result.stdout
    result = runner.invoke(main, ["fix", "--apply", "--unsafe-fixes", str(path)])
    assert "Fixed 1 finding in 1 file." in result.stdout
    assert "nn.GroupNorm(1, 8)" in path.read_text()
    assert result.exit_code == 1  # DPL004 has no fix


def test_select_limits_the_fixes(tmp_path):
    path = write(tmp_path / "byol.py", BYOL)
    report = fix_apply_selected(path, {"DPL003"})
    assert [f.code for f in report.fixed] == ["DPL003"]
    assert ".detach()" in path.read_text()


def fix_apply_selected(path, select):
    report = run_fixes([path], select=select)
    assert write_fixes(report) == []
    return report


def test_overlapping_fixes_land_in_later_passes(tmp_path):
    # DPL102 (replace nn.LSTM) and DPL002 (add batch_first=True) edit the same line.
    path = write(tmp_path / "m.py", """
        import torch.nn as nn

        class M(nn.Module):
            def __init__(self):
                super().__init__()
                self.rnn = nn.LSTM(4, 4)  # keep me

            def forward(self, x):
                return self.rnn(x)[0]
        """)
    report = fix_apply(path, unsafe=True)
    assert sorted(f.code for f in report.fixed) == ["DPL002", "DPL102"]
    text = path.read_text()
    assert "self.rnn = DPLSTM(4, 4, batch_first=True)  # keep me" in text
    assert "from opacus.layers import DPLSTM" in text
    assert check_files([path]).findings == []


def test_writes_keep_mode_encoding_bom_and_newlines(tmp_path):
    latin = tmp_path / "latin.py"
    source = BYOL.replace('"""A BYOL', '# -*- coding: latin-1 -*-\n"""Caf\xe9 BYOL', 1)
    latin.write_bytes(source.encode("latin-1"))
    bom = tmp_path / "bom.py"
    bom.write_bytes(codecs.BOM_UTF8 + BYOL.replace("\n", "\r\n").encode("utf-8"))
    os.chmod(latin, 0o640)
    fix_apply(latin, bom)
    assert stat.S_IMODE(latin.stat().st_mode) == 0o640
    latin_text = latin.read_bytes().decode("latin-1")
    assert "Caf\xe9 BYOL" in latin_text and "with torch.no_grad():" in latin_text
    data = bom.read_bytes()
    assert data.startswith(codecs.BOM_UTF8)
    text = data[len(codecs.BOM_UTF8):].decode("utf-8")
    assert "with torch.no_grad():\r\n" in text
    assert "\n" not in text.replace("\r\n", "")
    assert not list(tmp_path.glob(".*.dp-lint*"))  # no temporary file left behind


def test_a_file_changed_on_disk_is_not_overwritten(tmp_path):
    path = write(tmp_path / "byol.py", BYOL)
    report = run_fixes([path])
    path.write_text(BYOL + "# edited meanwhile\n")
    problems = write_fixes(report)
    assert len(problems) == 1 and "changed on disk" in problems[0]
    assert path.read_text().endswith("# edited meanwhile\n")


def test_a_fix_that_would_not_parse_is_dropped(tmp_path, monkeypatch):
    import dp_lint.lint.check as engine
    from dp_lint.catalogue.loader import RuleEntry
    from dp_lint.catalogue.rule import Rule

    class BrokenFixRule(Rule):
        code = "DPL199"
        name = "broken-fix"
        summary = "Offers a fix that does not parse."

        def check(self, project):
            for file in project.files:
                loc = Location(1, 1)
                edit = Edit(loc, loc, "def (:\n")
                yield Finding(self.code, self.name, "broken", file.path, loc, loc,
                              fix=Fix(Applicability.SAFE, "break it", (edit,)))

    entry = RuleEntry("DPL199", "broken-fix", tmp_path, BrokenFixRule())
    monkeypatch.setattr(engine, "load_catalogue", lambda: (entry,))
    path = write(tmp_path / "ok.py", "x = 1\n")
    report = run_fixes([path])
    assert [reason for _, reason in report.dropped] == ["the fixed code would not parse"]
    assert write_fixes(report) == [] and path.read_text() == "x = 1\n"


def test_check_json_shows_the_fix_like_ruff(tmp_path):
    path = write(tmp_path / "byol.py", BYOL)
    result = CliRunner().invoke(main, ["check", str(path), "--output-format", "json", "--select", "DPL003"])
    [row] = json.loads(result.stdout)
    assert row["fix"]["applicability"] == "safe"
    assert row["fix"]["message"] == "Freeze `self.target` after its assignment"
    [edit] = row["fix"]["edits"]
    assert edit["content"] == "        self.target.requires_grad_(False)\n"
    assert edit["location"] == {"row": 15, "column": 1} and edit["end_location"] == {"row": 15, "column": 1}


@pytest.mark.parametrize(
    "forward, fixed_lines",
    [
        (  # inline .data in a larger expression: hoisted under no_grad with a fresh name
            "return (self.online(x) - 0).sum() + (self.target(x).data * 2).sum()",
            None,  # another call runs first: no fix (dropout order would change)
        ),
        (
            "return (self.target(x).data * 2).sum() + self.online(x).sum()",
            ["with torch.no_grad():", "    target_out = self.target(x)", "return (target_out * 2).sum() + self.online(x).sum()"],
        ),
        (
            "t = self.target(x)\n        t.detach_()\n        return (self.online(x) - t).sum()",
            ["with torch.no_grad():", "    t = self.target(x)", "return (self.online(x) - t).sum()"],
        ),
        (
            "return (self.online(x) - sg(self.target(x))).sum()",
            None,
        ),
        (
            "t = sg(self.target(x))\n        return (self.online(x) - t).sum()",
            ["with torch.no_grad():", "    t = sg(self.target(x))", "return (self.online(x) - t).sum()"],
        ),
    ],
)
def test_dpl001_fix_shapes(tmp_path, forward, fixed_lines):
    source = f"""
import torch
import torch.nn as nn


def sg(v):
    return v.detach()


class M(nn.Module):
    def __init__(self):
        super().__init__()
        self.online = nn.Linear(4, 4)
        self.target = nn.Linear(4, 4)
        self.target.requires_grad_(True)

    def forward(self, x):
        {forward}
"""
    path = tmp_path / "m.py"
    path.write_text(source)
    report = fix_apply_selected(path, {"DPL001"})
    text = path.read_text()
    if fixed_lines is None:
        assert report.fixed == [] and text == source
        return
    body = [line[8:] for line in text.split("def forward(self, x):\n", 1)[1].splitlines()]
    assert body == fixed_lines


def test_fix_respects_suppressions_and_removes_unused_ones(tmp_path):
    source = BYOL.replace(
        "        t = self.target(x2).detach()  # stop-gradient\n",
        "        t = self.target(x2).detach()  # dp-lint: ignore[DPL001]\n",
    ).replace(
        "        p = self.online(x1)  # online view\n",
        "        p = self.online(x1)  # dp-lint: ignore[DPL002]\n",
    )
    path = tmp_path / "byol.py"
    path.write_text(source)
    result = CliRunner().invoke(main, ["fix", "--apply", str(path), "--select", "DPL001,DPL002,DPL900"])
    text = path.read_text()
    assert ".detach()  # dp-lint: ignore[DPL001]" in text  # suppressed: not fixed
    assert "p = self.online(x1)\n" in text  # the unused suppression is gone
    assert result.exit_code == 0, result.output


def test_fix_config_and_force_exclude(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[tool.dp-lint]\nextend-exclude = ["generated/"]\n')
    path = write(tmp_path / "generated" / "byol.py", BYOL)
    result = CliRunner().invoke(main, ["fix", "--apply", "--force-exclude", str(path)])
    assert path.read_text() == BYOL
    assert "Fixed 0 findings in 0 files." in result.stdout

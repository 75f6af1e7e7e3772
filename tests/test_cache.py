"""The result cache of `check` (dp_lint.lint.cache): hits, invalidation, corruption, races."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from dp_lint.cli import main
from dp_lint.lint import cache

ROOT = Path(__file__).resolve().parent.parent

MODEL = """import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.bn = nn.BatchNorm2d(3)
        self.fc = nn.Linear(3, 2)
"""
MODEL_CLEAN = MODEL.replace("nn.BatchNorm2d(3)", "nn.GroupNorm(1, 3)")
TRAIN = """import torch
from opacus import PrivacyEngine

from model import Net

model = Net()
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
engine = PrivacyEngine()
model, optimizer, loader = engine.make_private(
    module=model, optimizer=optimizer, data_loader=None, noise_multiplier=1.0, max_grad_norm=1.0
)
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'p'\n")
    (tmp_path / "model.py").write_text(MODEL)
    (tmp_path / "train.py").write_text(TRAIN)
    return tmp_path


def check(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["check", *args])
    return result.exit_code, result.output


def entries(root: Path) -> list[Path]:
    return sorted((root / cache.FOLDER).glob("*.json"))


def test_first_run_fills_the_cache_and_the_second_hits(project: Path, monkeypatch) -> None:
    code, first = check(str(project / "train.py"))
    assert len(entries(project)) == 1
    folder = project / cache.FOLDER
    assert (folder / ".gitignore").read_text().splitlines()[-1] == "*"
    assert (folder / cache.STAMP).exists()
    assert len(entries(project)) == 1
    calls = []
    from dp_lint.lint import check as engine

    real = engine.check_files
    monkeypatch.setattr(engine, "check_files", lambda *a, **k: calls.append(a) or real(*a, **k))
    assert check(str(project / "train.py")) == (code, first)
    assert calls == []  # a hit: the engine did not run
    assert check("--no-cache", str(project / "train.py")) == (code, first)
    assert len(calls) == 1


def test_editing_a_context_file_invalidates(project: Path) -> None:
    # The finding is in model.py because train.py (a context file here) calls make_private.
    _, before = check(str(project / "model.py"))
    assert "DPL101" in before
    (project / "train.py").write_text(TRAIN.split("engine = ")[0])
    _, after = check(str(project / "model.py"))
    assert after != before  # the message no longer names train.py's make_private call
    assert after == check("--no-cache", str(project / "model.py"))[1]
    assert len(entries(project)) == 2
    # and back: the first entry is reused and still right
    (project / "train.py").write_text(TRAIN)
    assert check(str(project / "model.py"))[1] == before


def test_editing_the_model_rechecks_the_script(project: Path) -> None:
    _, before = check(str(project))
    assert "DPL101" in before
    (project / "model.py").write_text(MODEL_CLEAN)
    _, after = check(str(project))
    assert "DPL101" not in after
    assert after == check("--no-cache", str(project))[1]


def test_a_configuration_change_invalidates(project: Path) -> None:
    _, before = check(str(project))
    assert "DPL101" in before
    (project / "pyproject.toml").write_text("[project]\nname = 'p'\n[tool.dp-lint]\nignore = ['DPL101']\n")
    _, after = check(str(project))
    assert "DPL101" not in after
    assert after == check("--no-cache", str(project))[1]


def test_rule_source_and_version_changes_invalidate(project: Path, monkeypatch) -> None:
    check(str(project))
    assert len(entries(project)) == 1
    monkeypatch.setattr(cache, "code_digest", lambda: "edited rule")
    check(str(project))
    assert len(entries(project)) == 2
    import dp_lint

    monkeypatch.setattr(dp_lint, "__version__", "99.0")
    check(str(project))
    assert len(entries(project)) == 3


@pytest.mark.parametrize("damage", ["", "{", "[]", '{"version": "0.0.1"}', "\x00\xff"])
def test_a_corrupt_entry_is_ignored_and_rewritten(project: Path, damage: str) -> None:
    expected = check("--no-cache", str(project))
    check(str(project))
    (entry,) = entries(project)
    entry.write_bytes(damage.encode("latin-1"))
    assert check(str(project)) == expected
    assert json.loads(entry.read_text())["version"]
    assert check(str(project)) == expected


def test_an_unwritable_cache_folder_is_not_used(project: Path) -> None:
    (project / "blocker").write_text("a file, not a folder")
    (project / "pyproject.toml").write_text("[project]\nname = 'p'\n[tool.dp-lint]\ncache-dir = 'blocker/c'\n")
    result = CliRunner().invoke(main, ["check", str(project)])
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    assert result.output == check("--no-cache", str(project))[1]
    assert not (project / cache.FOLDER).exists()


def test_cache_dir_setting(project: Path) -> None:
    (project / "pyproject.toml").write_text("[project]\nname = 'p'\n[tool.dp-lint]\ncache-dir = 'build/lint'\n")
    check(str(project))
    assert list((project / "build" / "lint").glob("*.json"))
    assert not (project / cache.FOLDER).exists()


def test_standard_input_is_not_cached(project: Path) -> None:
    result = CliRunner().invoke(main, ["check", "-", "--stdin-filename", str(project / "model.py")], input=MODEL)
    assert "DPL" in result.output
    assert not entries(project)


def test_two_processes_at_once(project: Path) -> None:
    expected = check("--no-cache", str(project))[1]
    shutil.rmtree(project / cache.FOLDER, ignore_errors=True)
    command = [sys.executable, "-m", "dp_lint", "check", str(project)]
    for _ in range(2):
        runs = [subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                for _ in range(3)]
        outputs = [run.communicate() for run in runs]
        assert all("Traceback" not in err for _, err in outputs)
        assert {out for out, _ in outputs} == {expected}
    (entry,) = entries(project)
    json.loads(entry.read_text())
    assert not list((project / cache.FOLDER).glob(".tmp-*"))


@pytest.mark.parametrize("output_format", ["full", "json"])
def test_examples_output_is_the_same_with_and_without_cache(tmp_path: Path, output_format: str) -> None:
    examples = tmp_path / "examples"
    shutil.copytree(ROOT / "examples", examples)
    fresh = check("--no-cache", "--output-format", output_format, str(examples))
    assert check("--output-format", output_format, str(examples)) == fresh  # fills
    assert entries(examples) or list(examples.rglob(cache.FOLDER))
    assert check("--output-format", output_format, str(examples)) == fresh  # hits

"""Findings do not depend on which other paths are named, nor in which order: configuration
applies per file, analysis facts per project (see dp_lint.files.projects)."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import pytest
from catalogue_cases import all_cases

from dp_lint.files.projects import ProjectRoots
from dp_lint.lint import run as runner

REPO = Path(__file__).resolve().parent.parent
DPL002_CASES = REPO / "rules" / "DPL002-batch-first-mismatch" / "cases"

ATTENTION_MODEL = """\
import torch.nn as nn
from opacus.layers import DPMultiheadAttention


class Encoder(nn.Module):
    def __init__(self, dim=16):
        super().__init__()
        self.attn = DPMultiheadAttention(dim, 1)
        self.head = nn.Linear(dim, 2)

    def forward(self, x):
        h, _ = self.attn(x, x, x)
        return self.head(h.mean(0))
"""


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def findings(*paths, **request) -> list[tuple[str, str, int, int]]:
    run = runner.run(runner.Request(paths=[str(p) for p in paths], **request))
    assert not run.internal_errors
    return sorted((f.code, str(f.path), f.location.row, f.location.column) for f in run.findings)


def of_file(found, path: Path):
    return [f for f in found if f[1] == str(path)]


def as_project(tmp_path: Path, case: Path) -> Path:
    """A copy of a catalogue case folder that is its own project root (an empty [tool.dp-lint])."""
    copy = tmp_path / case.name
    shutil.copytree(case, copy, ignore=shutil.ignore_patterns("__pycache__"))
    (copy / "pyproject.toml").write_text("[tool.dp-lint]\n", encoding="utf-8")
    return copy


# -- the reproductions of issue 10 ("Results depend on the command line") ------------------------


def test_path_order_does_not_choose_the_analysis_settings(tmp_path):
    # a/ assumes a sequence-first engine, b/ the default batch-first one; neither has an engine call.
    write(tmp_path / "a" / "pyproject.toml", "[tool.dp-lint]\nassume-batch-first = false\n")
    write(tmp_path / "b" / "pyproject.toml", "[tool.dp-lint]\n")
    a = write(tmp_path / "a" / "model.py", ATTENTION_MODEL)
    b = write(tmp_path / "b" / "model.py", ATTENTION_MODEL)
    forward = findings(tmp_path / "a", tmp_path / "b")
    assert forward == findings(tmp_path / "b", tmp_path / "a")
    assert of_file(forward, a) == findings(tmp_path / "a") == []
    assert [f[0] for f in of_file(forward, b)] == ["DPL002"] and of_file(forward, b) == findings(tmp_path / "b")


@pytest.mark.parametrize("case, model_file", [
    ("clean_sequence_first_project", "seqlab/models/tagger.py"),
    ("flag_engine_sequence_first_project", "myproj/models/text.py"),
])
def test_a_model_file_checked_alone_sees_the_training_scripts_engine(tmp_path, case, model_file):
    # The training script says make_private(..., batch_first=False): the sequence-first model is
    # right (no finding, no fix that would break it) and the batch-first one is a real mismatch.
    project = as_project(tmp_path, DPL002_CASES / case)
    model = project / model_file
    whole = findings(project)
    assert findings(model) == of_file(whole, model)
    assert bool(of_file(whole, model)) == case.startswith("flag_")


def test_stdin_with_a_filename_is_analysed_in_its_project(tmp_path, monkeypatch):
    project = as_project(tmp_path, DPL002_CASES / "clean_sequence_first_project")
    model = project / "seqlab" / "models" / "tagger.py"
    text = model.read_text(encoding="utf-8")
    monkeypatch.chdir(project)
    assert findings(runner.STDIN, stdin_text=text, stdin_filename=str(model)) == []
    # The text sent replaces the file on disk (an editor's unsaved buffer).
    edited = text.replace("DPLSTM(embed_dim, hidden)", "DPLSTM(embed_dim, hidden, batch_first=True)")
    [finding] = findings(runner.STDIN, stdin_text=edited, stdin_filename=str(model))
    assert finding[:3] == ("DPL002", str(model), 14)


def test_context_files_are_never_reported(tmp_path):
    write(tmp_path / "pyproject.toml", "[tool.dp-lint]\n")
    write(tmp_path / "broken.py", "def f(:\n")
    write(tmp_path / "other.py", ATTENTION_MODEL)
    model = write(tmp_path / "model.py", ATTENTION_MODEL)
    assert findings(model) == of_file(findings(tmp_path), model)
    assert {f[1] for f in findings(model)} == {str(model)}


def test_excluded_and_nested_projects_are_not_context(tmp_path):
    write(tmp_path / "pyproject.toml", "[tool.dp-lint]\nextend-exclude = [\"generated\"]\n")
    model = write(tmp_path / "model.py", ATTENTION_MODEL)
    engine = """\
        from opacus import PrivacyEngine
        from model import Encoder

        PrivacyEngine().make_private(module=Encoder(), optimizer=None, data_loader=None,
                                     noise_multiplier=1.0, max_grad_norm=1.0, batch_first=False)
        """
    write(tmp_path / "generated" / "train.py", engine)
    write(tmp_path / "sub" / "pyproject.toml", "[tool.dp-lint]\n")
    write(tmp_path / "sub" / "train.py", engine)
    # Neither engine call is part of the project: the default batch-first engine is assumed.
    assert [f[0] for f in findings(model)] == ["DPL002"]
    write(tmp_path / "train.py", engine)
    assert findings(model) == []


def test_project_roots(tmp_path):
    write(tmp_path / "repo" / ".git" / "HEAD", "ref: refs/heads/main\n")
    write(tmp_path / "repo" / "pkg" / "pyproject.toml", "[project]\nname = 'pkg'\n")
    write(tmp_path / "repo" / "lib" / "pyproject.toml", "[tool.dp-lint]\n")
    roots = ProjectRoots()
    assert roots.root_of(tmp_path / "repo" / "pkg" / "m.py") == tmp_path / "repo"
    assert roots.root_of(tmp_path / "repo" / "lib" / "x" / "m.py") == tmp_path / "repo" / "lib"
    # Without a marker: the outermost named folder holding the file, else the file's folder.
    loose = tmp_path / "loose"
    assert roots.root_of(loose / "a" / "m.py") == loose / "a"
    assert ProjectRoots([loose / "a", loose]).root_of(loose / "a" / "m.py") == loose


# -- every multi-file catalogue case: one file alone == the whole project; order is irrelevant ----

PROJECT_CASES = [case for case in all_cases() if case.path.is_dir()]


@pytest.mark.parametrize("case", PROJECT_CASES, ids=[c.id for c in PROJECT_CASES])
def test_each_file_alone_gets_its_findings_of_the_whole_case(tmp_path, case):
    project = as_project(tmp_path, case.path)
    whole = findings(project)
    files = sorted(p for p in project.rglob("*.py"))
    for path in files:
        assert findings(path) == of_file(whole, path), path.relative_to(project)
    assert findings(*files) == whole
    assert findings(*reversed(files)) == whole

"""Jupyter notebooks: code cells checked as one module, findings at cell and row, fixes
written back into the cells with everything else in the file intact."""

from __future__ import annotations

import json
import shutil
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from dp_lint.cli import main
from dp_lint.core.findings import Edit, Location
from dp_lint.files.discovery import discover, module_name_for
from dp_lint.files.notebooks import NotebookError, mask_cell, parse_notebook_text
from dp_lint.lint import run as runner

ROOT = Path(__file__).resolve().parent.parent
ENGINE_PROJECT = ROOT / "rules" / "DPL002-batch-first-mismatch" / "cases" / "flag_engine_sequence_first_project"

# A PNG's bytes as Jupyter stores them (base64, one string).
PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="

SIMSIAM_CELL = '''\
class SimSiam(nn.Module):
    def __init__(self, in_dim=32, dim=16, pred_dim=8):
        super().__init__()
        self.encoder = nn.Sequential(
            nn.Linear(in_dim, dim),
            nn.GELU(),
            nn.Linear(dim, dim),
        )
        self.predictor = nn.Sequential(nn.Linear(dim, pred_dim), nn.GELU(), nn.Linear(pred_dim, dim))

    def forward(self, x1, x2):
        z1 = self.encoder(x1)
        z2 = self.encoder(x2).detach()
        p1 = self.predictor(z1)
        return -F.cosine_similarity(p1, z2, dim=-1)'''
DETACH_ROW, DETACH_COLUMN = 13, 14  # `self.encoder(x2).detach()` in the cell


def lines(text: str) -> list[str]:
    """A cell's source as Jupyter stores it: a list of lines, the last without a line break."""
    return text.splitlines(keepends=True)


def code_cell(source, count=None, outputs=(), metadata=None) -> dict:
    return {
        "cell_type": "code",
        "execution_count": count,
        "metadata": metadata or {},
        "outputs": list(outputs),
        "source": source,
    }


def simsiam_notebook() -> dict:
    """Shaped like a real notebook: markdown, magics, shell escapes, outputs with an image."""
    return {
        "cells": [
            {"cell_type": "markdown", "metadata": {}, "source": lines("# SimSiam under DP-SGD\n\nA *tutorial*.")},
            code_cell(
                lines("%matplotlib inline\nimport torch\nimport torch.nn as nn\nimport torch.nn.functional as F"),
                count=1,
                outputs=[{"name": "stdout", "output_type": "stream", "text": ["ready\n"]}],
            ),
            code_cell(lines(SIMSIAM_CELL), count=2, metadata={"tags": ["model"], "collapsed": False}),
            code_cell(
                lines(
                    "!pip install -q opacus\n"
                    "from opacus import PrivacyEngine\n"
                    "model = SimSiam()\n"
                    "optimizer = torch.optim.SGD(model.parameters(), lr=0.05)\n"
                    "model, optimizer, loader = PrivacyEngine().make_private(\n"
                    "    module=model, optimizer=optimizer, data_loader=loader,\n"
                    "    noise_multiplier=1.0, max_grad_norm=1.0,\n"
                    ")\n"
                    "plt.plot([1, 2])"
                ),
                count=3,
                outputs=[{
                    "data": {"image/png": PNG, "text/plain": ["<Figure size 640x480 with 1 Axes>"]},
                    "metadata": {"needs_background": "light"},
                    "output_type": "display_data",
                }],
            ),
            {"cell_type": "raw", "metadata": {}, "source": "raw text, not code"},
        ],
        "metadata": {
            "kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"},
            "language_info": {"name": "python", "version": "3.11.7"},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }


def jupyter_json(notebook: dict) -> str:
    """What Jupyter writes: indent 1, sorted keys, non-ASCII kept, a final newline."""
    return json.dumps(notebook, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def write_notebook(path: Path, notebook: dict | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(jupyter_json(notebook or simsiam_notebook()), encoding="utf-8")
    return path


def check_json(*args: str) -> list[dict]:
    result = CliRunner().invoke(main, ["check", "--output-format", "json", *args])
    assert result.exit_code in (0, 1), result.output
    return json.loads(result.stdout)


# --- reading --------------------------------------------------------------------------


def test_magics_shell_escapes_and_help_are_masked_row_for_row():
    source = textwrap.dedent('''\
        %load_ext autoreload
        x = (1
          % 2)
        files = !ls
        s = """
        %not a magic
        """
        for i in range(2):
            !echo {i} \\
              continued
        model?
        y = 1''')
    masked, rows = mask_cell(source)
    assert len(masked.splitlines()) == len(source.splitlines())
    assert sorted(rows) == [1, 4, 9, 10, 11]
    masked_lines = masked.splitlines()
    assert masked_lines[0] == "pass" and masked_lines[8] == "    pass" and masked_lines[9] == ""
    assert masked_lines[2] == "  % 2)" and masked_lines[5] == "%not a magic"
    compile(masked, "<cell>", "exec")


def test_cell_magics_mask_non_python_cells_and_keep_python_ones():
    bash, rows = mask_cell("%%bash\necho $HOME\nls")
    assert bash == "\n\n" and rows == {1, 2, 3}
    timed, rows = mask_cell("%%time\nx = 1\n")
    assert timed == "\nx = 1\n" and rows == {1}


@pytest.mark.parametrize("dump", [
    jupyter_json,
    lambda nb: json.dumps(nb, indent=2, ensure_ascii=True),  # no final newline, escaped
    lambda nb: json.dumps(nb, indent=4, ensure_ascii=False) + "\n",
    lambda nb: json.dumps(nb),  # one line, Python's default separators
    lambda nb: json.dumps(nb, separators=(",", ":")),  # minified
    lambda nb: json.dumps(nb, indent="\t"),
])
def test_notebook_round_trips_byte_for_byte(dump):
    notebook = simsiam_notebook()
    notebook["cells"][0]["source"].append("\nÜber *privacy* — ε = 1 🙂")
    text = dump(notebook)
    assert parse_notebook_text(text).dumps() == text
    # Written back after an edit, only the edited cell differs.
    edited = parse_notebook_text(text).with_edits([Edit(Location(2, 1), Location(2, 1), "import os\n")])
    expected = json.loads(text)
    expected["cells"][1]["source"].insert(1, "import os\n")
    assert edited.dumps() == dump(expected)


def test_virtual_module_rows_map_to_cells():
    notebook = parse_notebook_text(jupyter_json(simsiam_notebook()))
    assert [cell.number for cell in notebook.cells] == [2, 3, 4]
    first_row = notebook.cells[1].first_row
    assert first_row == 5  # cell 2 has 4 lines
    assert notebook.cell_location(Location(first_row + DETACH_ROW - 1, 14)) == (3, Location(DETACH_ROW, 14))
    # An end at the start of a cell is the end of the cell before it.
    assert notebook.cell_location(Location(first_row, 1), end=True) == (2, Location(5, 1))


def test_an_insertion_between_cells_goes_to_a_python_cell():
    notebook = simsiam_notebook()
    notebook["cells"].insert(2, code_cell(lines("%%bash\necho hi")))
    parsed = parse_notebook_text(jupyter_json(notebook))
    bash, model = parsed.cells[1], parsed.cells[2]
    after_python = parsed.with_edits([Edit(Location(bash.first_row, 1), Location(bash.first_row, 1), "x = 1\n")])
    assert after_python.data["cells"][1]["source"][-2:] == ["import torch.nn.functional as F\n", "x = 1"]
    after_bash = parsed.with_edits([Edit(Location(model.first_row, 1), Location(model.first_row, 1), "x = 1\n")])
    assert after_bash.data["cells"][2]["source"] == ["%%bash\n", "echo hi"]
    assert after_bash.data["cells"][3]["source"][0] == "x = 1\n"


def test_edits_that_touch_a_magic_or_span_cells_are_refused():
    notebook = parse_notebook_text(jupyter_json(simsiam_notebook()))
    with pytest.raises(NotebookError, match="IPython"):
        notebook.with_edits([Edit(Location(1, 1), Location(2, 1), "import os\n")])
    with pytest.raises(NotebookError, match="two notebook cells"):
        notebook.with_edits([Edit(Location(4, 1), Location(6, 1), "")])


# --- checking ---------------------------------------------------------------------------


def test_simsiam_detach_reported_at_cell_3(tmp_path, monkeypatch):
    path = write_notebook(tmp_path / "simsiam.ipynb")
    monkeypatch.chdir(tmp_path)
    [finding] = check_json("simsiam.ipynb")
    assert finding["code"] == "DPL001"
    assert finding["cell"] == 3
    assert finding["location"] == {"row": DETACH_ROW, "column": DETACH_COLUMN}
    assert finding["end_location"]["row"] == DETACH_ROW
    assert finding["noqa_row"] == DETACH_ROW
    [edit] = finding["fix"]["edits"]
    assert edit["location"] == {"row": DETACH_ROW, "column": 1}
    assert finding["filename"] == str(path)

    concise = CliRunner().invoke(main, ["check", "--output-format", "concise", "simsiam.ipynb"])
    assert concise.stdout.startswith(f"simsiam.ipynb:cell 3:{DETACH_ROW}:{DETACH_COLUMN}: DPL001 [*] ")
    full = CliRunner().invoke(main, ["check", "--output-format", "full", "simsiam.ipynb"]).stdout
    assert f"simsiam.ipynb:cell 3:{DETACH_ROW}:{DETACH_COLUMN}: DPL001" in full
    # The frame shows the cell's own lines, numbered from the cell's first line.
    assert f"{DETACH_ROW} |         z2 = self.encoder(x2).detach()" in full
    assert f"{DETACH_ROW - 1} |         z1 = self.encoder(x1)" in full


def test_ci_formats_give_a_file_position_and_the_cell(tmp_path, monkeypatch):
    write_notebook(tmp_path / "simsiam.ipynb")
    monkeypatch.chdir(tmp_path)

    def output(fmt: str) -> str:
        return CliRunner().invoke(main, ["check", "--output-format", fmt, "simsiam.ipynb"]).stdout

    github = output("github")
    assert "file=simsiam.ipynb,line=1,col=1," in github
    assert f"::cell 3, row {DETACH_ROW}, column {DETACH_COLUMN}: .detach()" in github
    result = json.loads(output("sarif"))["runs"][0]["results"][0]
    assert result["locations"][0]["physicalLocation"]["region"] == {"startLine": 1, "startColumn": 1}
    assert result["properties"]["cell"] == 3
    assert result["properties"]["cellRegion"]["startLine"] == DETACH_ROW
    assert "fixes" not in result
    assert f"simsiam.ipynb:cell 3:{DETACH_ROW}:{DETACH_COLUMN}: DPL001" in output("junit")
    [issue] = json.loads(output("gitlab"))
    assert issue["location"]["lines"] == {"begin": 1, "end": 1}
    assert issue["description"].startswith(f"DPL001 cell 3, row {DETACH_ROW}")


def test_notebook_from_standard_input(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(
        main, ["check", "-", "--stdin-filename", "nb.ipynb", "--output-format", "concise"],
        input=jupyter_json(simsiam_notebook()),
    )
    assert result.stdout.startswith(f"nb.ipynb:cell 3:{DETACH_ROW}:{DETACH_COLUMN}: DPL001")


def test_suppressions_in_cells(tmp_path, monkeypatch):
    notebook = simsiam_notebook()
    cell = notebook["cells"][2]["source"]
    cell[DETACH_ROW - 1] = cell[DETACH_ROW - 1].replace(".detach()", ".detach()  # dp-lint: ignore[DPL001]")
    notebook["cells"][3]["source"][1] = "from opacus import PrivacyEngine  # dp-lint: ignore[DPL003]\n"
    write_notebook(tmp_path / "nb.ipynb", notebook)
    monkeypatch.chdir(tmp_path)
    [unused] = check_json("nb.ipynb")
    assert (unused["code"], unused["cell"], unused["location"]["row"]) == ("DPL900", 4, 2)

    # DPL900's fix removes the comment from that cell only.
    result = CliRunner().invoke(main, ["fix", "--apply", "nb.ipynb"])
    assert result.exit_code == 0, result.output
    written = json.loads((tmp_path / "nb.ipynb").read_text(encoding="utf-8"))
    assert written["cells"][3]["source"][1] == "from opacus import PrivacyEngine\n"
    assert written["cells"][2] == notebook["cells"][2]


def test_add_noqa_writes_into_the_cell(tmp_path, monkeypatch):
    path = write_notebook(tmp_path / "nb.ipynb")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["check", "--add-noqa", "nb.ipynb"])
    assert result.exit_code == 0, result.output
    written = json.loads(path.read_text(encoding="utf-8"))
    assert written["cells"][2]["source"][DETACH_ROW - 1].endswith(".detach()  # dp-lint: ignore[DPL001]\n")
    assert check_json("nb.ipynb") == []


def test_invalid_notebooks_are_dpl000(tmp_path, monkeypatch):
    (tmp_path / "broken.ipynb").write_text('{"cells": [\n  {"cell_type": "code",\n', encoding="utf-8")
    (tmp_path / "list.ipynb").write_text("[1, 2]\n", encoding="utf-8")
    (tmp_path / "latin.ipynb").write_bytes(b'{"cells": [], "x": "\xe9"}')
    bad_cell = simsiam_notebook()
    bad_cell["cells"][2]["source"] = lines("def broken(:\n    pass")
    write_notebook(tmp_path / "syntax.ipynb", bad_cell)
    monkeypatch.chdir(tmp_path)
    findings = {f["filename"].rsplit("/", 1)[1]: f for f in check_json(".")}
    assert set(findings) == {"broken.ipynb", "list.ipynb", "latin.ipynb", "syntax.ipynb"}
    assert all(f["code"] == "DPL000" for f in findings.values())
    assert findings["broken.ipynb"]["message"].startswith("invalid notebook JSON")
    assert findings["broken.ipynb"]["cell"] is None and findings["broken.ipynb"]["location"]["row"] == 3
    assert "not a Jupyter notebook" in findings["list.ipynb"]["message"]
    assert "not valid UTF-8" in findings["latin.ipynb"]["message"]
    # A syntax error in a cell is shown in that cell.
    assert findings["syntax.ipynb"]["cell"] == 3 and findings["syntax.ipynb"]["location"]["row"] == 1


def test_named_notebook_is_read_as_a_notebook_not_as_python(tmp_path, monkeypatch):
    write_notebook(tmp_path / "nb.ipynb")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["check", "nb.ipynb"])
    assert result.exit_code == 1
    assert "All checks passed!" not in result.stdout


# --- discovery --------------------------------------------------------------------------


def test_folder_walk_finds_notebooks_and_include_settings(tmp_path):
    write_notebook(tmp_path / "notebooks" / "a.ipynb")
    (tmp_path / "model.py").write_text("x = 1\n", encoding="utf-8")
    (tmp_path / "script.pyw").write_text("x = 1\n", encoding="utf-8")
    names = sorted(p.name for p in discover([tmp_path]))
    assert names == ["a.ipynb", "model.py"]

    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text('[tool.dp-lint]\nextend-include = ["*.pyw"]\n', encoding="utf-8")
    run = runner.run(runner.Request(paths=[tmp_path]))
    assert sorted(p.name for p in run.files) == ["a.ipynb", "model.py", "script.pyw"]

    pyproject.write_text('[tool.dp-lint]\ninclude = ["*.py"]\n', encoding="utf-8")
    run = runner.run(runner.Request(paths=[tmp_path]))
    assert sorted(p.name for p in run.files) == ["model.py"]
    # Named on the command line, a notebook is checked whatever `include` says.
    run = runner.run(runner.Request(paths=[tmp_path / "notebooks" / "a.ipynb"]))
    assert [f.code for f in run.findings] == ["DPL001"]


def test_include_is_validated_and_shown_by_config(tmp_path, monkeypatch):
    (tmp_path / "pyproject.toml").write_text('[tool.dp-lint]\ninclude = "*.py"\n', encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["check", "."])
    assert result.exit_code == 2
    assert "`include` in [tool.dp-lint] must be an array of patterns" in result.output
    (tmp_path / "pyproject.toml").write_text('[tool.dp-lint]\nextend-include = ["*.pyw"]\n', encoding="utf-8")
    shown = CliRunner().invoke(main, ["config"]).stdout
    assert 'include = ["*.py", "*.ipynb"]  # default' in shown
    assert 'extend-include = ["*.pyw"]  #' in shown


def test_notebook_module_names(tmp_path):
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("", encoding="utf-8")
    assert module_name_for(write_notebook(tmp_path / "pkg" / "explore.v2.ipynb")) == "explore_v2"
    (tmp_path / "train.py").write_text("", encoding="utf-8")
    assert module_name_for(write_notebook(tmp_path / "train.ipynb")) == "train-ipynb"


# --- cross-file analysis ---------------------------------------------------------------------


def engine_notebook() -> dict:
    return {
        "cells": [
            {"cell_type": "markdown", "metadata": {}, "source": ["# Training"]},
            code_cell(lines("!pip install opacus\nimport torch\nfrom opacus import PrivacyEngine\n"
                            "from myproj.models import TextClassifier")),
            code_cell(lines(
                "model = TextClassifier(vocab_size=50)\n"
                "optimizer = torch.optim.SGD(model.parameters(), lr=0.1)\n"
                "model, optimizer, train_loader = PrivacyEngine().make_private(\n"
                "    module=model, optimizer=optimizer, data_loader=train_loader,\n"
                "    noise_multiplier=1.0, max_grad_norm=1.0, batch_first=False,\n"
                ")"
            )),
        ],
        "metadata": {},
        "nbformat": 4,
        "nbformat_minor": 5,
    }


def test_engine_call_in_a_notebook_applies_to_project_modules(tmp_path):
    project = tmp_path / "project"
    shutil.copytree(ENGINE_PROJECT, project)
    (project / "train" / "run.py").unlink()
    run = runner.run(runner.Request(paths=[project]))
    assert run.findings == []  # without the engine call, nothing is wrong
    write_notebook(project / "train" / "run.ipynb", engine_notebook())
    run = runner.run(runner.Request(paths=[project]))
    assert [(f.code, f.path.name) for f in run.findings] == [("DPL002", "text.py")]


# --- fixing ---------------------------------------------------------------------------------


def test_fix_apply_changes_only_the_fixed_cell(tmp_path, monkeypatch):
    path = write_notebook(tmp_path / "simsiam.ipynb")
    before = json.loads(path.read_text(encoding="utf-8"))
    monkeypatch.chdir(tmp_path)

    diff = CliRunner().invoke(main, ["fix", "simsiam.ipynb"])
    assert "--- a/simsiam.ipynb:cell 3" in diff.stdout
    assert "+        with torch.no_grad():" in diff.stdout
    assert path.read_text(encoding="utf-8") == jupyter_json(before)  # diff mode writes nothing

    result = CliRunner().invoke(main, ["fix", "--apply", "simsiam.ipynb"])
    assert result.exit_code == 0, result.output
    assert "Fixed 1 finding in 1 file." in result.stdout
    text = path.read_text(encoding="utf-8")
    after = json.loads(text)

    # Every field but cell 3's source is as it was: outputs (the image), counts, metadata.
    fixed_source = after["cells"][2].pop("source")
    original_source = before["cells"][2].pop("source")
    assert after == before
    assert after["cells"][3]["outputs"][0]["data"]["image/png"] == PNG
    assert after["cells"][3]["execution_count"] == 3
    # The source keeps its shape (a list of lines, the last one without a line break).
    assert isinstance(fixed_source, list) and not fixed_source[-1].endswith("\n")
    assert "".join(fixed_source) == "".join(original_source).replace(
        "        z2 = self.encoder(x2).detach()\n",
        "        with torch.no_grad():\n            z2 = self.encoder(x2)\n",
    )
    # Formatted as Jupyter writes it: indent 1, key order kept, a final newline.
    after["cells"][2]["source"] = fixed_source
    assert text == json.dumps(after, indent=1, ensure_ascii=False) + "\n"
    assert text.startswith('{\n "cells": [\n  {\n   "cell_type": "markdown",')
    assert check_json("simsiam.ipynb") == []


def test_fix_keeps_string_sources_and_magics(tmp_path, monkeypatch):
    notebook = simsiam_notebook()
    notebook["cells"][2]["source"] = "%%time\n" + SIMSIAM_CELL + "\n"
    path = write_notebook(tmp_path / "nb.ipynb", notebook)
    monkeypatch.chdir(tmp_path)
    [finding] = check_json("nb.ipynb")
    assert (finding["cell"], finding["location"]["row"]) == (3, DETACH_ROW + 1)
    result = CliRunner().invoke(main, ["fix", "--apply", "nb.ipynb"])
    assert result.exit_code == 0, result.output
    written = json.loads(path.read_text(encoding="utf-8"))
    source = written["cells"][2]["source"]
    assert isinstance(source, str) and source.startswith("%%time\nclass SimSiam") and source.endswith("dim=-1)\n")
    assert "with torch.no_grad():" in source
    assert written["cells"][1]["source"][0] == "%matplotlib inline\n"
    assert written["cells"][3]["source"][0] == "!pip install -q opacus\n"

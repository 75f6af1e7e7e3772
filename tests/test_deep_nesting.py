"""Deeply nested source: never an internal error or a crashed interpreter; DPL000 where Python
itself rejects the file, a skipped-file notice where Python accepts it but it is deeper than
dp-lint analyses, and every other file of the project still checked (dp_lint.files.nesting).

The commands run as real processes: libcst crashes the interpreter (a native stack overflow)
on the deepest of these files, which an in-process test could not survive.
"""

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from dp_lint.files import nesting

REPO_ROOT = Path(__file__).resolve().parent.parent

# A model Opacus rejects (DPL101 BatchNorm): the file next to the deep one must keep its finding.
MODEL = (
    "import torch.nn as nn\n\n\n"
    "class Net(nn.Module):\n"
    "    def __init__(self):\n"
    "        super().__init__()\n"
    "        self.bn = nn.BatchNorm1d(3)\n"
)


def dp_lint(*args, cwd):
    env = dict(os.environ, NO_COLOR="1")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    env.pop("DP_LINT_DEBUG", None)
    return subprocess.run([sys.executable, "-m", "dp_lint", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


def python_rejects(text):
    try:
        ast.parse(text)
    except (SyntaxError, RecursionError, MemoryError):
        return True
    return False


def project_with(tmp_path, deep_text):
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'p'\n")
    (tmp_path / "model.py").write_text(MODEL)
    # The deep file has a finding of its own above the deep expression.
    (tmp_path / "deep.py").write_text(MODEL + "\n\n" + deep_text + "\n")
    return tmp_path


# Shapes Python rejects: its tokenizer stops at 200 nested brackets, its parser at about
# 3,000 levels of a chain. libcst accepts the first (and crashes on 5,000 `[`).
REJECTED = {
    "1000 parentheses": "x = " + "(" * 1000 + "1" + ")" * 1000,
    "1000 nested calls": "x = " + "f(" * 1000 + "1" + ")" * 1000,
    "5000 nested lists": "x = " + "[" * 5000 + "1" + "]" * 5000,
    "30000 not": "x = " + "not " * 30000 + "a",
    "30000 unary minus": "x = " + "-" * 30000 + "1",
}


@pytest.mark.parametrize("shape", sorted(REJECTED))
def test_nesting_python_rejects_is_dpl000_and_the_rest_is_checked(tmp_path, shape):
    text = REJECTED[shape]
    assert python_rejects(text)
    root = project_with(tmp_path, text)

    result = dp_lint("check", ".", "--output-format", "concise", cwd=root)

    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr
    lines = result.stdout.splitlines()
    deep = [line for line in lines if line.startswith("deep.py:")]
    assert len(deep) == 1 and "DPL000 syntax error: too" in deep[0], lines
    assert any(line.startswith("model.py:7:") and "DPL101" in line for line in lines), lines


def test_a_chain_python_accepts_but_deeper_than_analysed_is_skipped_with_a_notice(tmp_path):
    text = "x = 1" + " + 1" * 1500
    assert not python_rejects(text)
    root = project_with(tmp_path, text)

    result = dp_lint("check", ".", "--output-format", "concise", cwd=root)

    # Not a syntax error (Python runs the file), but not analysed: reported, exit 2.
    assert result.returncode == 2
    assert "DPL000" not in result.stdout
    assert "did not analyse file deep.py: nested 1503 levels deep" in result.stderr
    assert "Traceback" not in result.stderr
    assert any(line.startswith("model.py:7:") for line in result.stdout.splitlines())
    assert "gave up on 1 analysis (1 file)" in result.stdout
    assert "All checks passed" not in result.stdout


@pytest.mark.parametrize("text", [
    "x = 1" + " + 1" * 900,  # past the default recursion limit of libcst's visitors
    "x = " + "[" * 199 + "1" + "]" * 199,  # Python's deepest brackets
    "x = (" + " ".join(['"a"'] * 1000) + ")",  # libcst nests adjacent strings
    "x = " + "1 if a else " * 900 + "1",
])
def test_deep_code_python_accepts_is_analysed_like_any_other(tmp_path, text):
    root = project_with(tmp_path, text)

    result = dp_lint("check", ".", "--output-format", "concise", cwd=root)

    assert result.returncode == 1, result.stderr
    assert result.stderr == ""
    rows = sorted(line.split(":")[0] + ":" + line.split(":")[1] for line in result.stdout.splitlines() if "DPL" in line)
    assert rows == ["deep.py:7", "model.py:7"]


def test_json_and_statistics_count_the_skipped_file(tmp_path):
    root = project_with(tmp_path, "x = 1" + " + 1" * 1500)

    listed = json.loads(dp_lint("check", ".", "--output-format", "json", cwd=root).stdout)
    stats = json.loads(dp_lint("check", ".", "--statistics", "--output-format", "json", cwd=root).stdout)
    text = dp_lint("check", ".", "--statistics", cwd=root).stdout

    gave_up = [item for item in listed if item["code"] is None]
    assert [(g["name"], g["kind"], Path(g["filename"]).name) for g in gave_up] == [
        ("analysis-gave-up", "limit", "deep.py")]
    assert [i["code"] for i in listed if i["code"]] == ["DPL101"]
    assert {"code": None, "name": "analysis-gave-up", "count": 1, "fixable": False, "files": 1} in stats
    assert "1  -       analysis-gave-up (1 file)" in text


def test_fix_leaves_a_skipped_file_alone_and_fixes_the_rest(tmp_path):
    deep_text = "x = 1" + " + 1" * 1500 + "\n"
    (tmp_path / "deep.py").write_text(deep_text)

    result = dp_lint("fix", "--apply", ".", cwd=tmp_path)

    assert result.returncode == 2
    assert "did not analyse file deep.py" in result.stderr and "Traceback" not in result.stderr
    assert (tmp_path / "deep.py").read_text() == deep_text


# --- the scan ------------------------------------------------------------------------------


def test_scan_counts_brackets_of_code_only():
    brackets_in_strings = "x = '" + "(" * 500 + "'\n# " + "[" * 500 + "\ny = \"\"\"" + "{" * 500 + "\"\"\"\n"
    assert nesting.scan(brackets_in_strings).bracket_depth == 0
    assert not nesting.scan(brackets_in_strings).suspicious
    code = "x = " + "(" * 150 + "1" + ")" * 150 + "\n" + "y = 2\n" * 200
    assert nesting.scan(code).bracket_depth == 150 and nesting.scan(code).suspicious


def test_scan_counts_f_string_fields_and_escaped_quotes():
    # The brackets of an f-string's fields are code; an escaped quote does not end a string.
    f_string = "x = f'{" + "(" * 150 + "1" + ")" * 150 + "}'\n" + "#" * 900 + "\n"
    assert nesting.scan(f_string).suspicious
    escaped = "x = 'it\\'s " + "(" * 500 + "'\n" + "y = 1\n" * 200
    assert not nesting.scan(escaped).suspicious


def test_scan_finds_long_chains_but_not_long_flat_tables():
    chain = "x = a" + ".b" * 900 + "\n"
    table = "x = [" + ", ".join(f"{i}.5e-3" for i in range(2000)) + "]\n"
    assert nesting.scan(chain).suspicious
    assert not nesting.scan(table).suspicious
    assert not nesting.scan("x = 1\n").suspicious


def test_python_verdict_gives_python_message_and_position():
    verdict = nesting.python_verdict("x = " + "(" * 300 + "1" + ")" * 300 + "\n", "deep.py")
    assert verdict.rejected and verdict.message == "syntax error: too many nested parentheses"
    assert (verdict.row, verdict.column) == (1, 205)
    accepted = nesting.python_verdict("x = -(-(-1))\n", "ok.py")
    # Module, Assign, three UnaryOp, Constant.
    assert not accepted.rejected and accepted.depth == 6


# --- other files Python rejects that libcst reads ----------------------------------------


@pytest.mark.parametrize("declaration, rejected", [("utf8", True), ("utf-8", False), ("UTF_8", False)])
def test_a_bom_with_a_coding_declaration_is_read_as_python_reads_it(declaration, rejected):
    from dp_lint.files.source import SourceError, decode_source

    data = b"\xef\xbb\xbf" + f"# coding: {declaration}\nx = 1\n".encode()
    assert python_rejects(data) is rejected
    if rejected:
        with pytest.raises(SourceError, match=f"encoding problem: {declaration} with BOM"):
            decode_source(data)
    else:
        assert decode_source(data) == f"# coding: {declaration}\nx = 1\n"


def test_valid_python_libcst_cannot_read_is_a_notice_not_a_syntax_error(tmp_path):
    text = "def f():\n    (name): int\n"  # a parenthesised annotation target: Python compiles it
    assert not python_rejects(text)
    (tmp_path / "annotated.py").write_text(text)
    (tmp_path / "model.py").write_text(MODEL)

    result = dp_lint("check", ".", "--output-format", "concise", cwd=tmp_path)

    assert result.returncode == 2
    assert "DPL000" not in result.stdout
    assert ("did not analyse file annotated.py: valid Python that dp-lint's parser (libcst) cannot read at 2:1"
            in result.stderr)
    assert any(line.startswith("model.py:7:") for line in result.stdout.splitlines())


def test_suppressions_of_a_skipped_file_are_not_judged_and_the_others_are(tmp_path):
    (tmp_path / "deep.py").write_text("y = 1  # dp-lint: ignore[DPL101]\n" + "x = 1" + " + 1" * 1500 + "\n")
    (tmp_path / "other.py").write_text("z = 1  # dp-lint: ignore[DPL101]\n")

    result = dp_lint("check", ".", "--output-format", "concise", cwd=tmp_path)

    assert result.returncode == 2
    assert [line.split(":")[0] for line in result.stdout.splitlines() if "DPL900" in line] == ["other.py"]

"""`dp-lint verify --run` (observe mode) confirms the silent training-script rules' catalogue cases:
each DPL206 flag case, run as a script, breaks the `no-loss-scaling` invariant (and only it), and each
clean case keeps every invariant (opacus 1.6.0, CPU)."""

from __future__ import annotations

import ast
import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner
from runtime_cases import require_opacus

require_opacus()

from dp_lint.cli import main  # noqa: E402

CASES = sorted((Path(__file__).resolve().parent.parent / "rules" / "DPL206-loss-scaler-with-dp-optimizer" / "cases")
               .glob("*_*.py"))
CASES = [c for c in CASES if not c.name.endswith(".fixed.py")]

# Runs the case's training function the way the catalogue harness does, as a script.
RUNNER = """
import importlib.util, sys
spec = importlib.util.spec_from_file_location("case", {path!r})
case = importlib.util.module_from_spec(spec)
sys.modules["case"] = case
spec.loader.exec_module(case)
getattr(case, case.CASE["script"])(*case.CASE.get("args", []), **case.CASE.get("kwargs", {{}}))
"""


def _case(path: Path) -> dict:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return next(ast.literal_eval(n.value) for n in tree.body
                if isinstance(n, ast.Assign) and getattr(n.targets[0], "id", None) == "CASE")


@pytest.mark.parametrize("path", CASES, ids=[c.stem for c in CASES])
def test_observe_mode_confirms_the_loss_scaler_cases(tmp_path, path):
    (tmp_path / "run_case.py").write_text(RUNNER.format(path=str(path)), encoding="utf-8")
    old = os.getcwd()
    try:
        os.chdir(tmp_path)
        result = CliRunner().invoke(main, ["verify", "--run", "python run_case.py", "--steps", "2",
                                           "--output-format", "json"], catch_exceptions=False)
    finally:
        os.chdir(old)
    (verdict,) = json.loads(result.stdout)
    broken = [i["name"] for i in verdict["invariants"] if not i["holds"]]
    if path.name.startswith("flag_"):
        assert _case(path)["runtime"] == "silent"
        assert (verdict["verdict"], broken) == ("silent", ["no-loss-scaling"]), verdict
        assert "65536" in verdict["error"]
    else:
        assert (verdict["verdict"], broken) == ("ok", []), verdict

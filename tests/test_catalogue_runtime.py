"""Every catalogue case, run under real Opacus: flag cases must fail as their CASE says, clean
cases must give exact per-sample gradients."""

import pytest
from runtime_cases import collect_cases, require_opacus, run_case

require_opacus()

CASES = collect_cases()


def test_catalogue_has_cases():
    assert CASES, "no case found under rules/*/cases/"


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_case_description_is_consistent(case):
    spec = case.spec
    assert case.kind in ("flag", "clean"), f"case names start with flag_ or clean_: {case.name}"
    assert {"model", "inputs", "runtime"} <= spec.keys(), f"CASE lacks keys: {spec}"
    if case.kind == "flag":
        assert spec["runtime"] in ("crash", "silent")
    else:
        assert spec["runtime"] == "ok"
        assert "error" not in spec


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_case_runtime(case):
    verdict = run_case(case)
    expected = case.spec["runtime"]
    assert verdict.verdict == expected, f"expected {expected}, got:\n{verdict.summary()}"
    if "error" in case.spec:
        assert case.spec["error"] in (verdict.error or ""), verdict.summary()

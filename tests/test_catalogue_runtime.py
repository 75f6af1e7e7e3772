"""Every catalogue case, run under real Opacus: flag cases must fail as their CASE says, clean
cases must give exact per-sample gradients."""

import pytest
from runtime_cases import case_params, collect_cases, installed_opacus_version, require_opacus, run_case

from dp_lint.config.opacus_versions import in_range

require_opacus()

CASES = collect_cases(scripts=True)
OPACUS = installed_opacus_version()


def test_catalogue_has_cases():
    assert CASES, "no case found under rules/*/cases/"


@pytest.mark.parametrize("case", case_params(CASES))
def test_case_description_is_consistent(case):
    spec = case.spec
    assert case.kind in ("flag", "clean"), f"case names start with flag_ or clean_: {case.name}"
    required = {"script", "runtime"} if case.is_script else {"model", "inputs", "runtime"}
    assert required <= spec.keys(), f"CASE lacks keys: {spec}"
    assert isinstance(spec.get("opacus", ""), str) and isinstance(spec.get("versions", {}), dict)
    in_range("1.0", spec.get("opacus", ""))  # raises on a malformed range
    for version_range, override in spec.get("versions", {}).items():
        in_range("1.0", version_range)
        assert set(override) <= {"runtime", "error"}, override
    expectations = [spec] + list(spec.get("versions", {}).values())
    if case.kind == "flag":
        assert all(e.get("runtime", spec["runtime"]) in ("crash", "silent") for e in expectations)
    else:
        assert all(e.get("runtime", "ok") == "ok" and "error" not in e for e in expectations)


@pytest.mark.parametrize("case", case_params(CASES))
def test_case_runtime(case):
    reason = case.skip_reason(OPACUS)
    if reason:
        pytest.skip(reason)
    expected = case.expectation(OPACUS)
    verdict = run_case(case)
    assert verdict.verdict == expected["runtime"], \
        f"opacus {OPACUS}: expected {expected['runtime']}, got:\n{verdict.summary()}"
    if "error" in expected:
        assert expected["error"] in (verdict.error or ""), f"opacus {OPACUS}: {verdict.summary()}"
    # What the harness must have measured: the violation belongs to the case's own expectation, not
    # to a release where the same script crashes instead (CASE "versions").
    if case.is_script and "violation" in case.spec and expected["runtime"] == case.spec["runtime"]:
        assert any(v.startswith(case.spec["violation"]) for v in verdict.violations), verdict.summary()

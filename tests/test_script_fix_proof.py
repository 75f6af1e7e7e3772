"""The pinned fix of each flagged *script* case trains under real Opacus: its `*.fixed.py` twin, run
by the script harness (tests/script_runtime.py), takes DP steps with no crash and no violation.
(tests/test_fix_proof.py does the same for model cases.) Measured on opacus 1.4.1, 1.5.4 and 1.6.0
within each case's `opacus` range."""

from __future__ import annotations

import dataclasses

import pytest
from runtime_cases import case_params, collect_cases, installed_opacus_version, require_opacus, run_case

require_opacus()

FIXED = [
    dataclasses.replace(case, name=case.name + ".fixed", model_file=case.model_file.with_name(case.name + ".fixed.py"))
    for case in collect_cases(scripts=True)
    if case.is_script and case.kind == "flag" and case.root is None
    and case.model_file.with_name(case.name + ".fixed.py").exists()
]


def test_there_are_fixed_script_cases():
    assert len(FIXED) >= 4, [case.id for case in FIXED]


@pytest.mark.parametrize("case", case_params(FIXED))
def test_fixed_script_case_trains(case):
    reason = case.skip_reason(installed_opacus_version())
    if reason:
        pytest.skip(reason)
    verdict = run_case(case)
    assert verdict.verdict == "ok", f"{case.id}\n{verdict.summary()}"

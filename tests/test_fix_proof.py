"""Every catalogue case with a fix: apply it, then run the fixed model under real Opacus.

The fixed model must train one step with exact per-sample gradients; for safe fixes its
ordinary (non-private) outputs and gradients must equal the original's on the same weights
and inputs.
"""

from __future__ import annotations

import shutil
from dataclasses import replace

import pytest
from runtime_cases import collect_cases, model_factory, require_opacus

from dp_lint.core.findings import Applicability
from dp_lint.files.discovery import discover
from dp_lint.lint.fix_loop import run_fixes, write_fixes

require_opacus()

CASES = [c for c in collect_cases() if c.kind == "flag"]


def _copy_case(case, tmp_path):
    if case.root is None:
        target = tmp_path / case.model_file.name
        shutil.copy(case.model_file, target)
        return replace(case, name=case.name + "_fixed", model_file=target)
    root = tmp_path / case.root.name
    shutil.copytree(case.root, root, ignore=shutil.ignore_patterns("__pycache__"))
    return replace(case, name=case.name + "_fixed", model_file=root / case.model_file.relative_to(case.root), root=root)


def _fix(copy, unsafe: bool):
    files = discover([copy.root or copy.model_file])
    report = run_fixes(files, unsafe=unsafe)
    assert not report.dropped and not report.internal_errors
    assert write_fixes(report) == []
    return report


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_fixed_case_trains_with_exact_per_sample_gradients(case, tmp_path):
    from dp_lint.verify.runtime.equivalence import ordinary_differences
    from dp_lint.verify.runtime.smoke import check_model

    copy = _copy_case(case, tmp_path)
    report = _fix(copy, unsafe=False)
    only_safe = not report.remaining
    if not only_safe:
        report_unsafe = _fix(copy, unsafe=True)
        report.fixed += report_unsafe.fixed
        report.remaining = report_unsafe.remaining
    if not report.fixed:
        pytest.skip("no automatic fix for this case (manual work)")
    if report.remaining:
        assert all(f.fix is None for f in report.remaining)
        pytest.skip(f"partly fixed; left for manual work: {sorted({f.code for f in report.remaining})}")
    assert all(f.fix.applicability is Applicability.SAFE for f in report.fixed) == only_safe

    spec = case.spec
    inputs = spec["inputs"]
    batch_first = spec.get("batch_first", True)
    if any(f.code == "DPL002" for f in report.fixed):
        # The layers now follow the engine's layout: so must the data (why DPL002's fix is unsafe).
        inputs = [_relayout(s, batch_first) for s in inputs]
    with model_factory(copy) as fixed_factory:
        verdict = check_model(
            fixed_factory, inputs,
            batch_first=batch_first, loss_reduction=spec.get("loss_reduction", "mean"),
        )
        assert verdict.verdict == "ok", verdict.summary()
        fixed_model = fixed_factory()
    if only_safe:
        with model_factory(case) as original_factory:
            original_model = original_factory()
        differences = ordinary_differences(original_model, fixed_model, spec["inputs"], spec.get("loss_reduction", "mean"))
        assert differences == [], differences


def _relayout(spec: str, batch_first: bool) -> str:
    """`long[6, B] < 40` -> `long[B, 6] < 40` for a batch-first engine (and back)."""
    head, _, rest = spec.partition("[")
    dims, _, tail = rest.partition("]")
    parts = [d.strip() for d in dims.split(",")]
    if len(parts) < 2 or "B" not in parts:
        return spec
    parts.remove("B")
    parts.insert(0 if batch_first else 1, "B")
    return f"{head}[{', '.join(parts)}]{tail}"

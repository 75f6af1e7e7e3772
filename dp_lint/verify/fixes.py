"""`dp-lint fix --verify`: run every model a fix touches before and after the fix.

The fixed sources are written to a temporary copy of the checked files, never into the
user's files first. Each model is verified in the original and in the copy (same inputs,
arguments and engine settings), and when all of a model's fixes are safe, the original
and fixed models are also compared in ordinary training (same weights and inputs: same
outputs and gradients). A fix is confirmed when its model verifies `ok` after the fix
(and, for safe fixes, computes the same as before); with `--apply` only files whose
fixes are all confirmed are written.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from dp_lint.core.findings import Applicability, Finding
from dp_lint.lint.fix_loop import FixReport
from dp_lint.verify.api import compare_ordinary_many, verify_targets
from dp_lint.verify.targets import targets_for_findings


@dataclass
class FixVerification:
    lines: list[str] = field(default_factory=list)  # one per fixed finding, for the user
    confirmed_files: set[Path] = field(default_factory=set)
    rejected: dict[Path, str] = field(default_factory=dict)  # file -> why its fixes are not written


def verify_fixes(report: FixReport, *, device: str = "auto", timeout: float = 120.0,
                 display: Callable[[Path], str] = str) -> FixVerification:
    """Verify the models of `report.fixed` before and after the fixes. The findings are placed
    in the project of the fix run's first pass (the files as read) with the run's configuration;
    the fixed texts are verified from a temporary copy."""
    result = FixVerification()
    changed = report.changed
    if not changed:
        return result
    project = report.original_project
    assert project is not None, "a fix run that changed files has checked them"
    config = report.config
    root = _common_root([s.path for s in report.states.values()])
    placed = targets_for_findings(project, report.fixed, root, config)

    # Findings of later passes sit at positions of the partly fixed text: they belong to the
    # models already found for their file.
    models: dict[tuple, tuple] = {}
    finding_models: dict[int, list[tuple]] = {}
    unplaced: list[tuple[int, Finding, str]] = []
    for i, (finding, targets) in enumerate(zip(report.fixed, placed)):
        if isinstance(targets, str) or not targets:
            unplaced.append((i, finding, targets if isinstance(targets, str) else "no model to verify"))
            continue
        finding_models[i] = []
        for target in targets:
            key = target.identity()
            models.setdefault(key, (target, []))[1].append(finding)
            finding_models[i].append(key)
    for i, finding, reason in unplaced:
        keys = [key for key, (target, found) in models.items() if any(f.path == finding.path for f in found)]
        if keys:
            finding_models[i] = keys
            for key in keys:
                models[key][1].append(finding)
        else:
            finding_models[i] = []
            result.rejected.setdefault(finding.path, f"{finding.code}: {reason}")

    keys = list(models)
    targets = [models[k][0] for k in keys]
    with tempfile.TemporaryDirectory(prefix="dp-lint-fixed-") as copy:
        for state in report.states.values():
            target_path = Path(copy) / Path(os.path.abspath(state.path)).relative_to(root)
            target_path.parent.mkdir(parents=True, exist_ok=True)
            target_path.write_text(state.text, encoding="utf-8")
        moved = [t.moved(root, copy) for t in targets]
        before = verify_targets(targets, device=device, timeout=timeout, cwd=root) if targets else []
        after = verify_targets(moved, device=device, timeout=timeout, cwd=copy) if targets else []
        safe_pairs = [
            (n, (t, m)) for n, (t, m) in enumerate(zip(targets, moved))
            if all(f.fix is not None and f.fix.applicability is Applicability.SAFE for f in models[keys[n]][1])
        ]
        comparisons = dict(zip(
            [n for n, _ in safe_pairs],
            compare_ordinary_many([pair for _, pair in safe_pairs], device=device, timeout=timeout, cwd=root)
            if safe_pairs else [],
        ))

    confirmed_models = {}
    for n, key in enumerate(keys):
        comparison = comparisons.get(n)
        ok = after[n].verdict == "ok" and (comparison is None or comparison.equal)
        confirmed_models[key] = ok
        if not ok:
            if after[n].verdict != "ok" or comparison is None:
                why = f"after the fix: {_short(_in_root(after[n].summary(), copy, root))}"
            else:  # ok after the fix, but it computes differently in ordinary training
                why = comparison.summary()
            for finding in models[key][1]:
                result.rejected.setdefault(finding.path, f"{finding.code} in {targets[n].label}: {why}")

    for i, finding in enumerate(report.fixed):
        location = f"{display(finding.path)}:{finding.location.row}"
        if not finding_models.get(i):
            result.lines.append(f"{finding.code} {location} — not verified: {result.rejected.get(finding.path, 'no model')}")
            continue
        for key in finding_models[i]:
            n = keys.index(key)
            text = (f"{finding.code} {location} — {targets[n].label}: before: {_short(before[n].summary())}"
                    f" → after: {_short(_in_root(after[n].summary(), copy, root))}")
            if n in comparisons:
                text += f"; {comparisons[n].summary()}"
            result.lines.append(text)
    fixed_files = {s.path for s in changed}
    result.confirmed_files = {p for p in fixed_files if p not in result.rejected}
    return result


def _in_root(text: str, copy: str, root: Path) -> str:
    """A verdict from the temporary copy names the user's files, not the copy's."""
    return text.replace(os.path.realpath(copy), str(root)).replace(copy, str(root))


def _short(text: str, limit: int = 140) -> str:
    """Opacus' errors can be paragraphs long; one line per fix keeps the report readable."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _common_root(paths: Iterable[Path]) -> Path:
    absolute = [os.path.abspath(p) for p in paths]
    common = Path(os.path.commonpath(absolute)) if absolute else Path.cwd()
    return common.parent if common.is_file() else common

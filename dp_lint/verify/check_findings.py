"""`dp-lint check --verify`: attach each finding's runtime verdict to it.

After the static check, the models involved in findings (see
`dp_lint.verify.targets.targets_for_findings`) are verified once each, and every finding gets
`extra["verification"]`, one of

    confirmed: crash          the model crashes under Opacus
    confirmed: silent         Opacus computes wrong per-sample gradients without an error
    not confirmed: ok         the model's per-sample gradients are exact
    cannot-build: <reason>    the model could not be built or run (configure it)
    error: <reason>           the check did not finish (time-out, the interpreter died)
    not verified: <reason>    the finding is not inside a model dp-lint can build, or the run used
                              an Opacus release the finding does not hold for (see the version
                              table, dp_lint/config/opacus_versions.py): never confirmed by it

and `extra["verification_detail"]` (the model and its verdict, shown by the `full` format).
The verdict is the model's, not the finding's: a model with two findings that crashes for one
of them confirms both.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from dp_lint.analysis.project import Project
from dp_lint.config.settings import Config
from dp_lint.core.findings import Finding
from dp_lint.lint.check import holds_on
from dp_lint.verify.api import ModelVerdict, verify_targets
from dp_lint.verify.targets import VerifyTarget, targets_for_findings

_ORDER = ("crash", "silent", "ok", "cannot-build", "error")  # which verdict speaks for a finding


def verification_text(verdict: ModelVerdict) -> str:
    if verdict.verdict in ("crash", "silent"):
        return f"confirmed: {verdict.verdict}"
    if verdict.verdict == "ok":
        return "not confirmed: ok"
    reason = " ".join((verdict.error or "").split())
    if len(reason) > 200:
        reason = reason[:197] + "..."
    return f"{verdict.verdict}: {reason}" if reason else verdict.verdict


def verify_findings(
    findings: Sequence[Finding],
    project: Project,
    *,
    root: Path | None = None,
    config: Config | None = None,
    device: str = "auto",
    timeout: float = 120.0,
    fresh_process: bool = False,
    seed: int = 0,
) -> list[ModelVerdict]:
    """Verify the models of `findings` (found by the check that built `project`, with `config`
    its configuration) and set each finding's `extra["verification"]`. Returns the verdicts, one
    per model verified."""
    if not findings:
        return []
    root = Path(os.path.abspath(root or Path.cwd()))
    per_finding = targets_for_findings(project, findings, root, config)
    unique: dict[tuple, int] = {}
    targets: list[VerifyTarget] = []
    for entry in per_finding:
        if isinstance(entry, str):
            continue
        for target in entry:
            key = target.identity()
            if key not in unique:
                unique[key] = len(targets)
                targets.append(target)
    verdicts = verify_targets(targets, device=device, timeout=timeout, fresh_process=fresh_process, cwd=root,
                              seed=seed) if targets else []
    for finding, entry in zip(findings, per_finding):
        if isinstance(entry, str):
            finding.extra["verification"] = f"not verified: {entry}"
            continue
        mine = [verdicts[unique[t.identity()]] for t in entry]
        best = min(mine, key=lambda v: _ORDER.index(v.verdict) if v.verdict in _ORDER else len(_ORDER))
        if best.opacus and not holds_on(finding, best.opacus):
            # A run on a release without the problem neither confirms nor refutes the finding.
            holds = " or ".join((finding.extra.get("opacus") or {}).get("holds") or ())
            finding.extra["verification"] = (
                f"not verified: the run used opacus {best.opacus}, and this finding holds for opacus {holds} "
                f"(verify it in an environment with such a release)"
            )
            finding.extra["verification_detail"] = f"{best.target}: {best.summary()} on opacus {best.opacus}"
            continue
        finding.extra["verification"] = verification_text(best)
        finding.extra["verification_detail"] = f"{best.target}: {best.summary()}"
    return verdicts

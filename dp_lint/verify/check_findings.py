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

    the model fails (for another reason: <verdict>)
                              the model fails, but not in a way the finding accounts for

and `extra["verification_detail"]` (the model and its verdict, shown by the `full` format).

A failing model confirms a finding only when the failure is attributable to it (`attributable`):
when the runtime check names parameters or layers that went wrong (no per-sample gradient,
wrong values), one of them must lie in a submodule the finding names (`self.teacher`,
`Model.blocks[0].attn`); otherwise the error must be the one the finding predicts (the
exception it names, the error text it quotes, and for UnsupportedModuleError the kind of layer
it is on). A model with two findings that crashes for one of them confirms that one only.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from pathlib import Path

from dp_lint.analysis.project import Project
from dp_lint.config.settings import Config
from dp_lint.core.findings import Finding
from dp_lint.lint.check import holds_on
from dp_lint.verify.api import FAILED, ModelVerdict, first_line, verify_targets
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


# What the runtime check reports as wrong about a parameter (or an attention layer's output).
_WRONG = ("missing", "wrong-batch-dim", "mismatch", "forward-mismatch", "constant-output")
_CODE_SPAN = re.compile(r"`([^`]+)`")
_LOCATOR = re.compile(r"[A-Za-z_][\w]*(?:(?:\.[A-Za-z_]\w*)|(?:\[\d+\]))*")
_ERROR_NAME = re.compile(r"\b([A-Z]\w*(?:Error|Exception))\b")


def _locators(finding: Finding) -> list[tuple[str, ...]]:
    """The submodules a finding names, as paths of attribute names: `self.teacher` ->
    ("teacher",), `Model.blocks[0].attn` -> ("blocks", "0", "attn") (the model's class dropped)."""
    found = []
    for span in _CODE_SPAN.findall(finding.message):
        span = span.removesuffix("(...)")
        if not _LOCATOR.fullmatch(span):
            continue
        parts = tuple(p for p in re.split(r"[.\[\]]+", span) if p)
        if parts[:1] == ("self",):
            parts = parts[1:]
        elif len(parts) > 1 and parts[0][:1].isupper():
            parts = parts[1:]
        if parts and parts[0] not in ("nn", "torch", "opacus", "F") and not parts[-1][:1].isupper():
            found.append(parts)
    return found


def _contains(name: str, path: tuple[str, ...]) -> bool:
    """Does the parameter `name` (`blocks.0.attn.qlinear.weight`) lie in a submodule `path`?"""
    parts = name.split(".")
    return any(tuple(parts[i:i + len(path)]) == path for i in range(len(parts) - len(path) + 1))


def _layer_names(finding: Finding) -> list[str]:
    """The layer classes a finding is on (`BatchNorm2d`, `nn.LSTM`), with their family (`BatchNorm`)."""
    names = []
    for span in _CODE_SPAN.findall(finding.message):
        last = span.split(".")[-1]
        if re.fullmatch(r"[A-Z]\w*", last):
            names += [last, re.sub(r"\d+d$", "", last)]
    return names


def attributable(finding: Finding, verdict: ModelVerdict) -> bool:
    """Whether the model's failure (`crash` or `silent`) is the one `finding` describes."""
    wrong = [p.name for p in verdict.parameters if p.status in _WRONG]
    locators = _locators(finding)
    if wrong and locators:
        return any(_contains(name, path) for name in wrong for path in locators)
    if verdict.verdict == "silent":
        return not locators  # wrong per-sample gradients the finding cannot be placed among
    error = " ".join((verdict.error or "").split())
    kind = error.split(":", 1)[0].strip()
    text = f"{finding.message} {finding.help}"
    if kind not in _ERROR_NAME.findall(text):
        return False
    if kind == "UnsupportedModuleError":
        return any(name in error for name in _layer_names(finding))
    quoted = [q.split(":", 1)[1] for q in _CODE_SPAN.findall(text) if q.startswith(f"{kind}:")]
    heads = [" ".join(q.replace("...", " ").split())[:40] for q in quoted]
    return not heads or any(head and head in error for head in heads)


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
        failing = [v for v in mine if v.verdict in FAILED]
        mine_failing = [v for v in failing if attributable(finding, v)]
        if failing and not mine_failing:
            other = failing[0]
            finding.extra["verification"] = (
                f"the model fails (for another reason: {other.verdict}: {_short(first_line(other.error))})")
            finding.extra["verification_detail"] = f"{other.target}: {other.summary()}"
            continue
        if mine_failing:
            best = mine_failing[0]
        finding.extra["verification"] = verification_text(best)
        finding.extra["verification_detail"] = f"{best.target}: {best.summary()}"
    return verdicts


def _short(text: str, limit: int = 120) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."

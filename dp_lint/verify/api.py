"""Verdicts and the functions that produce them (see `dp_lint.verify` for the overview)."""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dp_lint.config.settings import Config, toml_value
from dp_lint.verify.launcher import DEFAULT_TIMEOUT, check_requirements, run_jobs
from dp_lint.verify.targets import VerifyTarget, discover_targets

VERDICTS = ("ok", "silent", "crash", "cannot-build", "error")
FAILED = ("crash", "silent")  # Opacus' per-sample gradients are wrong: a confirmed problem
UNVERIFIED = ("cannot-build", "error")  # nothing could be concluded

_STATUS_TEXT = {
    "missing": "no per-sample gradient (grad_sample was never set)",
    "wrong-batch-dim": "the per-sample gradient's first dimension is not the batch size",
    "constant-output": "a GroupNorm normalising single values: its output is its bias whatever the input",
}


@dataclass
class ParameterVerdict:
    """One trainable parameter (or one DPMultiheadAttention's forward output)."""

    name: str
    shape: tuple[int, ...]
    # ok | missing | wrong-batch-dim | mismatch | frozen | forward-mismatch | constant-output | unchecked | not-stepped
    status: str
    error: str | None = None  # what is wrong, in words (None when fine)
    max_abs_error: float | None = None

    def to_json(self) -> dict:
        return {"name": self.name, "shape": list(self.shape), "status": self.status, "error": self.error,
                "max_abs_error": _finite(self.max_abs_error)}


@dataclass
class ModelVerdict:
    """The runtime verdict on one model.

    verdict: `ok` (every per-sample gradient matches the one-sample reference), `crash` (Opacus
    raised; `error` is its text), `silent` (no error, but some per-sample gradients, or an
    attention output, are wrong; `error` says which and how far off), `cannot-build` (the model
    could not be imported, built or run with the inputs; `error` says why and `config_hint`
    holds the `[[tool.dp-lint.verify]]` table that would fix it), `error` (the check did not
    finish: a time-out, the interpreter died; `error` says how).
    """

    target: str
    verdict: str
    error: str | None = None
    device: str | None = None
    parameters: list[ParameterVerdict] = field(default_factory=list)
    inputs: list[str] | None = None
    inputs_inferred: bool = False
    settings: dict = field(default_factory=dict)
    origin: str = ""
    notes: list[str] = field(default_factory=list)
    batch_size: int | None = None  # the batch size the verdict comes from
    batch_sizes: list[int] | None = None
    max_error: float | None = None  # largest |per-sample gradient - reference| over all parameters
    output: str | None = None  # what the model's code printed (truncated)
    config_hint: str | None = None
    class_qualname: str | None = None
    # How the model was built: "constructor" (arguments read from the source), "config" (a
    # [[tool.dp-lint.verify]] table's arguments) or "capture" (the training script's own model, --run).
    built_by: str = "constructor"
    opacus: str | None = None  # the Opacus release the child ran (opacus.__version__); None: never started
    # Observe mode (--run with --steps N): the private steps taken and each invariant checked at
    # every step: {name, holds, measured, consequence} (see dp_lint.verify.runtime.observe).
    steps: int | None = None
    invariants: list[dict] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return self.verdict in FAILED

    @property
    def unverified(self) -> bool:
        return self.verdict in UNVERIFIED

    def summary(self) -> str:
        """`ok (max error 3e-07)`, `crash (ValueError: ...)`, `silent (2 parameters wrong: ...)`."""
        if self.verdict == "ok":
            return "ok" + (f" (max error {self.max_error:.1g})" if self.max_error is not None else "")
        return f"{self.verdict} ({first_line(self.error)})" if self.error else self.verdict

    def to_json(self) -> dict:
        return {
            "target": self.target,
            "verdict": self.verdict,
            "error": self.error,
            "device": self.device,
            "opacus": self.opacus,
            "parameters": [p.to_json() for p in self.parameters],
            "inputs": self.inputs,
            "inputs_inferred": self.inputs_inferred,
            "batch_sizes": self.batch_sizes,
            "batch_size": self.batch_size,
            "max_error": _finite(self.max_error),
            "settings": self.settings,
            "origin": self.origin,
            "built_by": self.built_by,
            "notes": self.notes,
            "config_hint": self.config_hint,
            "output": self.output,
            "steps": self.steps,
            "invariants": self.invariants,
        }


@dataclass
class OrdinaryComparison:
    """Ordinary (non-private) training of the original and the fixed model, same weights and inputs.

    `equal` is True when outputs and gradients agree within tolerance. `error` is set (and
    `equal` False) when the comparison could not be made: a model does not build, the two
    models hold different parameters, the run failed, the child died or timed out.
    """

    equal: bool
    error: str | None = None
    outputs_equal: bool | None = None
    gradients_equal: bool | None = None
    max_output_error: float | None = None
    max_gradient_error: float | None = None
    parameters: list[dict] = field(default_factory=list)  # {name, status: ok|differs|shape-differs, max_abs_error}
    device: str | None = None
    output: str | None = None

    def summary(self) -> str:
        if self.error:
            return f"not compared ({first_line(self.error)})"
        if self.equal:
            return "ordinary outputs and gradients unchanged"
        what = []
        if not self.outputs_equal:
            what.append(f"outputs differ by up to {self.max_output_error:.3g}")
        if not self.gradients_equal:
            differing = [p["name"] for p in self.parameters if p["status"] != "ok"]
            what.append(f"gradients differ ({', '.join(differing[:5])}{', ...' if len(differing) > 5 else ''})")
        return "ordinary " + "; ".join(what)


# --------------------------------------------------------------------------- running


def verify_targets(
    targets: Sequence[VerifyTarget],
    *,
    device: str = "auto",
    timeout: float = DEFAULT_TIMEOUT,
    fresh_process: bool = False,
    cwd: str | os.PathLike | None = None,
    seed: int = 0,
    on_verdict: Callable[[ModelVerdict], None] | None = None,
) -> list[ModelVerdict]:
    """Run every target that could be described statically in child processes; the others get
    `cannot-build` at once. Verdicts come back in the order of `targets`."""
    runnable = [(i, t) for i, t in enumerate(targets) if t.problem is None]
    results: dict = {}
    if runnable:
        check_requirements()
        jobs = [{"id": i, "kind": "verify", "target": t.to_request()} for i, t in runnable]
        results = run_jobs(jobs, device=device, timeout=timeout, fresh_process=fresh_process, cwd=cwd, seed=seed)
    verdicts = []
    for i, target in enumerate(targets):
        verdict = _verdict(target, results.get(i))
        if on_verdict is not None:
            on_verdict(verdict)
        verdicts.append(verdict)
    return verdicts


def verify_run(
    command: Sequence[str],
    *,
    cwd: str | os.PathLike,
    device: str = "auto",
    timeout: float = DEFAULT_TIMEOUT,
    seed: int = 0,
    steps: int | None = None,
) -> ModelVerdict:
    """Capture mode: run `command` (`["python", "train.py", "--epochs", "1"]`) in a fresh child with
    Opacus' entry points intercepted, stop it at the private model's first training forward pass,
    and check that real model on that real batch with the engine's own settings.

    Observe mode (`steps` given): let the script take that many real private optimizer steps and
    check at each the invariants the privacy guarantee rests on (the update before noise bounded by
    the clipping, batches drawn from the engine's loader, no loss scaler); `silent` names each one
    broken, with its measured figures."""
    check_requirements()
    label = "run: " + " ".join(command)
    job = {"id": 0, "kind": "capture" if steps is None else "observe", "command": list(command),
           "cwd": str(os.path.abspath(cwd)), "steps": steps}
    result = run_jobs([job], device=device, timeout=timeout, fresh_process=True, cwd=cwd, seed=seed)[0]
    verdict = ModelVerdict(target=label, verdict=result.get("verdict", "error"), origin="capture",
                           settings=dict(result.get("settings") or {}), notes=list(result.get("notes") or []))
    verdict.error = result.get("error")
    verdict.device = result.get("device")
    verdict.inputs = result.get("inputs")
    verdict.batch_size = result.get("batch_size")
    verdict.max_error = result.get("max_error")
    verdict.output = result.get("output")
    verdict.parameters = [_parameter(p) for p in result.get("parameters", [])]
    verdict.built_by = "capture"
    verdict.steps = result.get("steps")
    # Invariants are measured over the steps taken: none taken (a crash at the first), none shown.
    verdict.invariants = list(result.get("invariants") or []) if verdict.steps else []
    if steps is not None and result.get("engine"):
        verdict.notes.insert(0, f"observed: {verdict.steps} private optimizer step(s) of the script's own loop "
                                f"after {result['engine']}")
    elif result.get("engine"):
        verdict.notes.insert(0, f"built by capture: the model {result['engine']} received, on the first batch "
                                f"the script fed it ({result.get('batch_of_script')} samples)")
        if verdict.verdict == "ok":
            verdict.notes.append("the training loop itself was not run: `--steps 3` observes its privacy "
                                 "invariants (clipping, loader, loss scaling and reduction)")
    if verdict.verdict == "silent" and verdict.invariants:
        verdict.error = "; ".join(
            f"{BROKEN_INVARIANTS.get(i['name'], i['consequence'])} ({i['name']}: {i['measured']})"
            for i in verdict.invariants if not i["holds"]
        )
    elif verdict.verdict == "silent" and not verdict.error:
        verdict.error = _silent_summary(verdict.parameters)
    if verdict.verdict == "cannot-build":
        verdict.config_hint = ("# a command that reaches make_private quickly, e.g. with a small-data flag:\n"
                               "[[tool.dp-lint.verify]]\n" f"run = {toml_value(' '.join(command))}")
    return verdict


# What a broken observe-mode invariant means (dp_lint.verify.runtime.observe.INVARIANTS).
BROKEN_INVARIANTS = {
    "clipped-update": "an update left the optimizer larger than per-sample clipping allows: "
                      "the privacy guarantee does not hold",
    "private-loader": "the loop does not draw its batches from the data loader make_private returned: "
                      "the ε that get_epsilon reports is wrong",
    "no-loss-scaling": "a GradScaler scales every per-sample gradient before Opacus clips it: privacy holds, "
                       "but each sample is clipped to max_grad_norm and the update is not the intended one",
    "loss-reduction": "the loss reduces over the batch unlike the engine's loss_reduction: per-sample gradients "
                      "are scaled by the batch size (or its inverse) before clipping; privacy holds, the update "
                      "is not the intended one",
    "per-sample-rows": "Opacus' per-sample gradients have a row per something other than a sample (a time axis "
                       "taken for the batch axis?): each row is clipped, not each sample, so the privacy guarantee "
                       "does not hold",
    "noise-scale": "the noise added to the update is not noise_multiplier x max_grad_norm: the ε the accountant "
                   "reports is not the privacy of the training that ran",
    "ghost-clipping": "ghost clipping did not clip per sample (the loss was not the returned criterion's, or it "
                      "was one loss for the whole batch): the privacy guarantee does not hold",
    "ghost-accounting": "several backward passes before one step in ghost mode (gradient accumulation): the "
                        "accountant counts one batch per step, so the ε that get_epsilon reports is too small",
    "privacy-budget": "the training ran more steps than make_private_with_epsilon calibrated the noise for (a loop "
                      "of more epochs than its epochs=): the ε spent exceeds target_epsilon",
    "per-sample-gradients": "Opacus' per-sample gradients of the first batch differ from one-sample-at-a-time "
                            "ones: the clipping bounds the wrong quantities and the privacy guarantee does not hold",
}


def verify_project(
    root: str | os.PathLike,
    targets: Sequence[str] = (),
    *,
    paths: Sequence[str | os.PathLike] = (),
    config: Config | None = None,
    device: str = "auto",
    timeout: float = DEFAULT_TIMEOUT,
    fresh_process: bool = False,
    seed: int = 0,
) -> list[ModelVerdict]:
    """Verify the project in `root` (see `dp_lint.verify`); the child runs with `root` as its
    working directory."""
    root = Path(os.path.abspath(root))
    found = discover_targets(root, targets, paths=[Path(p) for p in paths], config=config)
    return verify_targets(found, device=device, timeout=timeout, fresh_process=fresh_process, cwd=root, seed=seed)


def compare_ordinary(
    original_target: VerifyTarget,
    fixed_target: VerifyTarget,
    *,
    device: str = "auto",
    timeout: float = DEFAULT_TIMEOUT,
    cwd: str | os.PathLike | None = None,
    seed: int = 0,
) -> OrdinaryComparison:
    """Build both models in one child (the original's modules are forgotten before the fixed
    copy is imported, so both may use the same module names), load the original's state dict
    into the fixed model, run the original's inputs through both in training mode with the same
    seed, and compare outputs and every parameter's ordinary gradient (a missing gradient,
    e.g. of a parameter the fix froze, counts as zero)."""
    return compare_ordinary_many([(original_target, fixed_target)], device=device, timeout=timeout, cwd=cwd,
                                 seed=seed)[0]


def compare_ordinary_many(
    pairs: Sequence[tuple[VerifyTarget, VerifyTarget]],
    *,
    device: str = "auto",
    timeout: float = DEFAULT_TIMEOUT,
    cwd: str | os.PathLike | None = None,
    seed: int = 0,
) -> list[OrdinaryComparison]:
    """`compare_ordinary` for several (original, fixed) pairs, in one child process."""
    comparisons: dict[int, OrdinaryComparison] = {}
    jobs: list[dict[str, Any]] = []
    for i, (original, fixed) in enumerate(pairs):
        problem = next((f"{t.label}: {t.problem}" for t in (original, fixed) if t.problem is not None), None)
        if problem is not None:
            comparisons[i] = OrdinaryComparison(False, error=problem)
        else:
            jobs.append({"id": i, "kind": "compare", "original": original.to_request(), "fixed": fixed.to_request()})
    if jobs:
        check_requirements()
        results = run_jobs(jobs, device=device, timeout=timeout, cwd=cwd, seed=seed)
        for job in jobs:
            comparisons[job["id"]] = _comparison(results[job["id"]])
    return [comparisons[i] for i in range(len(pairs))]


def _comparison(result: dict) -> OrdinaryComparison:
    if "equal" not in result:  # the child died or timed out
        return OrdinaryComparison(False, error=result.get("error"), device=result.get("device"),
                                  output=result.get("output"))
    return OrdinaryComparison(
        equal=bool(result["equal"]),
        error=result.get("error"),
        outputs_equal=result.get("outputs_equal"),
        gradients_equal=result.get("gradients_equal"),
        max_output_error=result.get("max_output_error"),
        max_gradient_error=result.get("max_gradient_error"),
        parameters=result.get("parameters", []),
        device=result.get("device"),
        output=result.get("output"),
    )


# --------------------------------------------------------------------------- building verdicts


def _verdict(target: VerifyTarget, result: dict | None) -> ModelVerdict:
    verdict = ModelVerdict(
        target=target.label,
        verdict="cannot-build",
        inputs=target.inputs,
        inputs_inferred=target.inputs_inferred,
        settings=target.settings(),
        origin=target.origin,
        notes=list(target.notes),
        class_qualname=target.class_qualname,
        # Built from a [[tool.dp-lint.verify]] table's arguments, or from the constructor's own
        # defaults and values read from the source.
        built_by="config" if target.origin.startswith("configuration") else "constructor",
    )
    if result is None:
        verdict.error = target.problem or "not run"
        verdict.config_hint = target.config_hint
        return verdict
    verdict.verdict = result.get("verdict", "error")
    verdict.error = result.get("error")
    verdict.device = result.get("device")
    verdict.opacus = result.get("opacus")
    verdict.batch_size = result.get("batch_size")
    verdict.batch_sizes = result.get("batch_sizes")
    verdict.max_error = result.get("max_error")
    verdict.output = result.get("output")
    verdict.parameters = [_parameter(p) for p in result.get("parameters", [])]
    verdict.notes.extend(n for n in result.get("notes", []) if n not in verdict.notes)
    if verdict.verdict == "silent" and not verdict.error:
        verdict.error = _silent_summary(verdict.parameters)
    if verdict.verdict == "cannot-build":
        verdict.config_hint = target.config_hint or _rerun_hint(target, model_error=bool(result.get("model_error")))
    return verdict


def _parameter(p: dict) -> ParameterVerdict:
    status = p["status"]
    error = None
    max_abs = p.get("max_abs_error")
    if status == "mismatch":
        error = f"differs from the one-sample reference by up to {max_abs:.3g}"
    elif status == "forward-mismatch":
        error = (f"output differs from nn.MultiheadAttention's by up to {max_abs:.3g}"
                 if max_abs is not None else (p.get("note") or "output differs from nn.MultiheadAttention's"))
    elif status in _STATUS_TEXT:
        error = _STATUS_TEXT[status]
    elif status == "unchecked":
        error = p.get("note")
    return ParameterVerdict(p["name"], tuple(p.get("shape") or ()), status, error, max_abs)


def _silent_summary(parameters: list[ParameterVerdict]) -> str:
    bad = [p for p in parameters if p.status not in ("ok", "frozen", "unchecked", "not-stepped")]
    if not bad:
        return "per-sample gradients are wrong"
    shown = [f"{p.name} ({p.status}" + (f", off by {p.max_abs_error:.3g}" if p.max_abs_error is not None else "") + ")"
             for p in bad[:4]]
    more = f" and {len(bad) - 4} more" if len(bad) > 4 else ""
    noun = "parameter" if len(bad) == 1 else "parameters"
    return f"{len(bad)} {noun} wrong without any error: {', '.join(shown)}{more}"


def _rerun_hint(target: VerifyTarget, model_error: bool) -> str:
    label = target.config_model or target.label
    lines = ["[[tool.dp-lint.verify]]", f"model = {toml_value(label)}"]
    if target.args:
        lines.append(f"args = {toml_value(list(target.args))}")
    if target.kwargs:
        lines.append(f"kwargs = {toml_value(dict(target.kwargs))}")
    comment = "  # the shapes forward() really takes" if model_error else ""
    lines.append(f"inputs = {toml_value(list(target.inputs or []))}{comment}")
    return "\n".join(lines)


def first_line(text: str | None) -> str:
    """The first non-blank line of an error text ("" for none)."""
    return (text or "").strip().splitlines()[0] if text and text.strip() else ""


def _finite(value):
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return value

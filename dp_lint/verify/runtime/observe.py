"""Observe mode of `dp-lint verify --run ... --steps N`: let the user's own training entry point take
N real private optimizer steps, and check at each one the invariants the privacy guarantee rests on.

Only the verify child imports this module (it runs user code and needs torch and Opacus). Opacus'
entry points (`make_private`, `make_private_with_epsilon`) are wrapped; what they return is
instrumented, and nothing the script computes is changed:

- **clipped update**: just before Opacus adds noise, the summed gradient it is about to release must
  have norm at most `n * max_grad_norm` (n = the samples the private model was trained on since the
  last step). Each sample's clipped contribution is at most `max_grad_norm`, so a larger sum means
  some gradient reached the optimizer unclipped (ghost mode given a loss function instead of an
  `nn.*Loss` module, or a loss computed without the criterion `make_private` returned): the
  privacy guarantee does not hold.
- **private loader**: under Poisson sampling, the batches must come from the data loader the engine
  returned (its batch sampler, or a `BatchMemoryManager` splitting it). A loop that still iterates
  the original loader trains on fixed-size shuffled batches while the accountant assumes Poisson
  sampling: the ε that `get_epsilon` reports is wrong.
- **no loss scaling**: the private optimizer is not stepped through an enabled `GradScaler`. The
  scaler multiplies every per-sample gradient before Opacus clips it (×65536 by default): privacy
  still holds, but every sample is clipped to the bound and the update is not the one intended.

The run stops after the N-th step (`_Stop`, as in capture mode); an exception before that is the
crash Opacus would give in real training.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from dp_lint.verify.runtime.capture import SETTING_DEFAULTS, CaptureFailed, bind_arguments, run_entry_point
from dp_lint.verify.runtime.smoke import tensors_of

INVARIANTS = ("clipped-update", "private-loader", "no-loss-scaling", "loss-reduction")

# Autograd's code for a loss node's `reduction` (`_saved_reduction` of NllLossBackward0, MseLossBackward0, ...).
_REDUCTIONS = {1: "mean", 2: "sum"}

# Slack for float rounding in the summed-gradient bound (relative).
_BOUND_SLACK = 1e-4


class ObserveStop(BaseException):
    """Ends the user's script after the N-th private step (a BaseException: the script's own
    `except Exception:` blocks do not swallow it)."""


@dataclass
class Invariant:
    """One invariant over every observed step: whether it held, and the figures measured."""

    name: str  # one of INVARIANTS
    holds: bool
    measured: str
    consequence: str  # "privacy", "accounting" or "utility": what breaks when it does not hold


@dataclass
class Observation:
    engine: str | None = None
    settings: dict[str, Any] = field(default_factory=dict)
    criterion: str | None = None
    steps: int = 0
    invariants: list[Invariant] = field(default_factory=list)
    crash: BaseException | None = None  # what the script raised before the N-th step
    notes: list[str] = field(default_factory=list)


@dataclass
class _State:
    wanted_steps: int
    observation: Observation = field(default_factory=Observation)
    depth: int = 0
    wrapped: bool = False
    private_samplers: list[Any] = field(default_factory=list)  # the returned loader's (batch) samplers
    poisson: bool = True
    max_grad_norm: float | None = None
    batch_dim: int = 0
    samples_since_step: int = 0
    worst_ratio: float = 0.0  # max over steps of |summed grad| / (n * C)
    worst_step: int = 0
    private_loops: int = 0
    other_loops: int = 0
    scaled_steps: int = 0
    scale: float | None = None
    loss_reduction: str = "mean"  # the engine's
    judge_reduction: bool = True  # hooks modes only: ghost mode's loss wrapper reduces by itself
    reductions_seen: dict[str, int] = field(default_factory=dict)  # "sum (NllLossBackward0)" -> backward passes
    private_optimizers: list[Any] = field(default_factory=list)


def observe(words: list[str], cwd: str, steps: int) -> Observation:
    """Run `words` (a `python script.py args...` command) in this interpreter for `steps` private
    optimizer steps. Raises CaptureFailed when the script never reaches an engine call or ends
    before its first private step."""
    import torch
    from opacus import PrivacyEngine
    from torch.utils.data import DataLoader

    state = _State(wanted_steps=max(1, steps))
    saved = {
        "make_private": PrivacyEngine.make_private,
        "make_private_with_epsilon": PrivacyEngine.make_private_with_epsilon,
        "loader_iter": DataLoader.__iter__,
    }
    scaler_class = getattr(getattr(torch, "amp", None), "GradScaler", None)
    saved_scaler_step = getattr(scaler_class, "step", None)
    saved_backward = torch.Tensor.backward

    def engine_wrapper(name: str) -> Any:
        real = saved[name]

        def wrapped(self: Any, *args: Any, **kwargs: Any) -> Any:
            if state.depth:
                return real(self, *args, **kwargs)
            bound = bind_arguments(real, self, args, kwargs)
            state.depth += 1
            try:
                result = real(self, *args, **kwargs)
            finally:
                state.depth -= 1
            if not state.wrapped:
                state.wrapped = True
                _instrument(state, name, bound, result)
            return result

        return wrapped

    def loader_iter(self: Any) -> Any:
        if state.wrapped and state.poisson:
            if _is_private(state, self):
                state.private_loops += 1
            else:
                state.other_loops += 1
        return saved["loader_iter"](self)

    def scaler_step(self: Any, optimizer: Any, *args: Any, **kwargs: Any) -> Any:
        if any(optimizer is o for o in state.private_optimizers) and self.is_enabled():
            state.scaled_steps += 1
            state.scale = float(self.get_scale())
        return saved_scaler_step(self, optimizer, *args, **kwargs)  # type: ignore[misc]

    def backward(self: Any, *args: Any, **kwargs: Any) -> Any:
        if state.wrapped and state.judge_reduction and state.depth == 0:
            _note_reduction(state, self)
        return saved_backward(self, *args, **kwargs)

    PrivacyEngine.make_private = engine_wrapper("make_private")
    PrivacyEngine.make_private_with_epsilon = engine_wrapper("make_private_with_epsilon")
    DataLoader.__iter__ = loader_iter  # type: ignore[method-assign]
    torch.Tensor.backward = backward  # type: ignore[method-assign]
    if scaler_class is not None and saved_scaler_step is not None:
        scaler_class.step = scaler_step
    try:
        how, cause = run_entry_point(words, cwd, stop=ObserveStop)
    finally:
        PrivacyEngine.make_private = saved["make_private"]
        PrivacyEngine.make_private_with_epsilon = saved["make_private_with_epsilon"]
        DataLoader.__iter__ = saved["loader_iter"]  # type: ignore[method-assign]
        torch.Tensor.backward = saved_backward  # type: ignore[method-assign]
        if scaler_class is not None and saved_scaler_step is not None:
            scaler_class.step = saved_scaler_step
    observation = state.observation
    if how is not None:
        if cause is not None and state.wrapped:
            observation.crash = cause  # raised in training, after the engine call: Opacus' failure or the script's
        elif observation.steps == 0:
            raise CaptureFailed(_ended(state, how)) from cause
        else:
            observation.notes.append(f"the script {how} after {observation.steps} private step(s)")
    observation.invariants = _invariants(state)
    return observation


def _instrument(state: _State, engine: str, bound: dict[str, Any], result: Any) -> None:
    """Hooks on what the engine returned: the private model counts samples, the DP optimizer
    measures the summed gradient before noise and stops the script after the N-th step."""
    import torch

    observation = state.observation
    observation.engine = engine
    settings = {**SETTING_DEFAULTS, **{k: bound[k] for k in SETTING_DEFAULTS if k in bound}}
    observation.settings = settings
    if bound.get("criterion") is not None:
        criterion = bound["criterion"]
        observation.criterion = getattr(criterion, "__qualname__", None) or type(criterion).__name__
    state.poisson = settings.get("poisson_sampling") is not False
    state.batch_dim = 0 if settings.get("batch_first") is not False else 1
    state.max_grad_norm = _clipping_bound(settings.get("max_grad_norm"))
    state.loss_reduction = str(settings.get("loss_reduction") or "mean")
    state.judge_reduction = settings.get("grad_sample_mode") in (None, "hooks", "functorch", "ew")
    parts = list(result) if isinstance(result, tuple) else [result]
    model, optimizer, loader = parts[0], parts[1], parts[-1]
    state.private_optimizers.append(optimizer)
    for attribute in ("batch_sampler", "sampler"):
        sampler = getattr(loader, attribute, None)
        if sampler is not None:
            state.private_samplers.append(sampler)

    def count_samples(module: Any, args: tuple, kwargs: dict) -> None:
        if module.training and torch.is_grad_enabled():
            tensors = [t for t in tensors_of([args, kwargs]) if t.dim() > state.batch_dim]
            if tensors:
                state.samples_since_step += int(tensors[0].shape[state.batch_dim])

    model.register_forward_pre_hook(count_samples, with_kwargs=True)
    real_add_noise = optimizer.add_noise
    real_step = optimizer.step

    def add_noise(*args: Any, **kwargs: Any) -> Any:
        _measure_update(state, optimizer)
        return real_add_noise(*args, **kwargs)

    def step(*args: Any, **kwargs: Any) -> Any:
        out = real_step(*args, **kwargs)
        if observation.steps >= state.wanted_steps:
            raise ObserveStop()
        return out

    optimizer.add_noise = add_noise
    optimizer.step = step


def _measure_update(state: _State, optimizer: Any) -> None:
    """Before noise: |sum of the batch's (clipped) gradients| against n * C."""
    observation = state.observation
    observation.steps += 1
    squares = 0.0
    for p in optimizer.params:
        summed = getattr(p, "summed_grad", None)
        if summed is not None:
            squares += float(summed.detach().double().pow(2).sum())
    samples, state.samples_since_step = state.samples_since_step, 0
    if state.max_grad_norm is None or samples == 0:
        return
    ratio = math.sqrt(squares) / (samples * state.max_grad_norm)
    if ratio > state.worst_ratio:
        state.worst_ratio, state.worst_step = ratio, observation.steps


def _note_reduction(state: _State, loss: Any) -> None:
    """How the loss a backward pass starts from reduces over the batch, when its last autograd
    node says so unambiguously (see the module docstring)."""
    node = getattr(loss, "grad_fn", None)
    if node is None or getattr(loss, "dim", lambda: 1)() != 0:
        return
    kind = type(node).__name__
    reduction = _REDUCTIONS.get(getattr(node, "_saved_reduction", None))  # type: ignore[arg-type]
    if reduction is None and kind in ("SumBackward0", "MeanBackward0"):
        sizes = tuple(getattr(node, "_saved_self_sym_sizes", ()) or ())
        if sizes and int(sizes[0]) == state.samples_since_step > 1:
            reduction = "sum" if kind == "SumBackward0" else "mean"
    if reduction is not None:
        key = f"{reduction} ({kind})"
        state.reductions_seen[key] = state.reductions_seen.get(key, 0) + 1


def _invariants(state: _State) -> list[Invariant]:
    observation = state.observation
    found = []
    if state.max_grad_norm is not None:
        holds = state.worst_ratio <= 1 + _BOUND_SLACK
        found.append(Invariant(
            "clipped-update", holds,
            f"largest summed gradient before noise: {state.worst_ratio:.4g} x (samples x max_grad_norm)"
            + (f", at step {state.worst_step}" if not holds else "") + f" over {observation.steps} step(s)",
            "privacy",
        ))
    if state.poisson:
        holds = state.other_loops == 0 or state.private_loops > 0
        found.append(Invariant(
            "private-loader", holds,
            f"loops over the loader make_private returned: {state.private_loops}; "
            f"over another loader: {state.other_loops}",
            "accounting",
        ))
    found.append(Invariant(
        "no-loss-scaling", state.scaled_steps == 0,
        "no GradScaler steps the private optimizer" if state.scaled_steps == 0
        else f"{state.scaled_steps} step(s) through GradScaler.step, scale {state.scale:g}",
        "utility",
    ))
    if state.judge_reduction:
        others = {k: n for k, n in state.reductions_seen.items() if not k.startswith(state.loss_reduction + " ")}
        seen = ", ".join(f"{k}: {n}" for k, n in sorted(state.reductions_seen.items())) or "none judged"
        found.append(Invariant(
            "loss-reduction", not others,
            f"make_private(loss_reduction={state.loss_reduction!r}); backward passes by the loss's reduction: {seen}",
            "utility",
        ))
    return found


def _is_private(state: _State, loader: Any) -> bool:
    """Does `loader` draw from the engine's loader: the same sampler, or a sampler wrapping it
    (BatchMemoryManager's BatchSplittingSampler keeps the private batch sampler as `.sampler`)?"""
    for attribute in ("batch_sampler", "sampler"):
        sampler = getattr(loader, attribute, None)
        for _ in range(4):
            if sampler is None:
                break
            if any(sampler is s for s in state.private_samplers):
                return True
            sampler = getattr(sampler, "sampler", None)
    return False


def _clipping_bound(max_grad_norm: Any) -> float | None:
    """C for flat clipping; sqrt(sum C_i^2) for per-layer bounds; None when not a number."""
    if isinstance(max_grad_norm, bool):
        return None
    if isinstance(max_grad_norm, (int, float)):
        return float(max_grad_norm) if max_grad_norm > 0 else None
    if isinstance(max_grad_norm, (list, tuple)) and all(isinstance(c, (int, float)) for c in max_grad_norm):
        total = math.sqrt(sum(float(c) ** 2 for c in max_grad_norm))
        return total if total > 0 else None
    return None


def _ended(state: _State, how: str) -> str:
    if state.observation.engine is None:
        return (f"the script {how} without calling make_private or make_private_with_epsilon "
                "(nothing to observe)")
    return f"the script {how} after {state.observation.engine} but before its first private optimizer step"

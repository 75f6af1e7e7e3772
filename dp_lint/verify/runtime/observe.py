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
- **per-sample rows**: in a step with one training forward pass (hooks modes), every parameter's
  per-sample gradient has one row per sample: per element the private loader drew for that step
  (single-process loaders; else per sample of the batch the model received). Rows that are not
  samples (a time axis taken for the batch axis, two augmented views concatenated into one batch)
  are clipped one by one, so one sample can move the update by more than `max_grad_norm`.
- **noise scale**: the noise Opacus added (the gradient after `add_noise` minus the clipped sum)
  has the standard deviation `noise_multiplier * max_grad_norm` the accountant assumes; judged at the
  first step when enough elements make the estimate tight.

- **ghost accounting** (ghost mode): one backward pass through the returned criterion's loss per step.
  Ghost mode accumulates several without an error, but the accountant counts each step at the sample
  rate of one batch: the ε that `get_epsilon` reports is too small.
- **privacy budget** (`make_private_with_epsilon`): after the steps taken, the ε the engine's accountant
  reports is at most the `target_epsilon` the noise was calibrated for (1% slack, Opacus' own
  tolerance). More steps than `epochs * len(data_loader)` (a loop of more epochs than `epochs=`) spend
  more than the target: the guarantee the script asked for does not hold.

- **ghost clipping** (ghost mode): each step's backward pass goes through the loss of the criterion
  `make_private` returned (its backward computes the clipping coefficients), and that loss has one
  entry per sample. A loss computed with the original criterion, or a loss function that reduces
  over the batch, is not clipped per sample, however small its gradients happen to be.

The first training batch and a copy of the model as the engine received it are kept, so that the
child can also compare the per-sample gradients with one-sample-at-a-time ones on that real batch.

The run stops after the N-th step (`_Stop`, as in capture mode); an exception before that is the
crash Opacus would give in real training.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field
from typing import Any

from dp_lint.verify.runtime.capture import (
    SETTING_DEFAULTS,
    STEPPED_PARAMETERS,
    CaptureFailed,
    bind_arguments,
    detached_copy,
    hooks_object,
    run_entry_point,
    stepped_parameters,
)
from dp_lint.verify.runtime.smoke import map_tensors, tensors_of

INVARIANTS = (
    "clipped-update", "private-loader", "no-loss-scaling", "loss-reduction", "per-sample-rows", "noise-scale",
    "per-sample-gradients", "ghost-clipping", "ghost-accounting", "privacy-budget",
)

# The accountant's ε may exceed target_epsilon by this much (relative) at the planned horizon: Opacus'
# noise search stops within `epsilon_tolerance` = 0.01.
_BUDGET_SLACK = 0.01

# Autograd's code for a loss node's `reduction` (`_saved_reduction` of NllLossBackward0, MseLossBackward0, ...).
_REDUCTIONS = {1: "mean", 2: "sum"}

# Slack for float rounding in the summed-gradient bound (relative).
_BOUND_SLACK = 1e-4

# The noise scale is judged from at least this many noise elements: the relative error of a
# standard-deviation estimate from n Gaussian draws is about 1/sqrt(2n) (5% at 200).
_NOISE_MIN_ELEMENTS = 200


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
    module: Any = None  # a copy of the model as the engine received it (no hooks), when it could be copied
    first_batch: tuple[tuple, dict] | None = None  # (args, kwargs) of the first private training forward


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
    forwards_since_step: int = 0
    drawn_since_step: int = 0  # elements the private loader's batch sampler yielded since the last step
    batches_drawn_since_step: int = 0
    count_drawn: bool = False  # a single-process private loader: what it draws is what the loop gets
    restore: list[tuple[Any, str, Any]] = field(default_factory=list)
    private_model: Any = None
    engine_error: BaseException | None = None  # what the first engine call raised
    ghost: bool = False  # ghost clipping: the returned criterion's loss does the clipping in its backward
    ghost_backwards: int = 0  # backward passes through the returned criterion's loss since the last step
    ghost_problems: dict[str, list[int]] = field(default_factory=dict)  # what went wrong -> at which steps
    ghost_steps: int = 0
    ghost_accumulated: list[int] = field(default_factory=list)  # steps that followed several ghost backward passes
    row_steps_judged: int = 0
    row_mismatches: list[str] = field(default_factory=list)  # "step 2: fc.weight has 10 rows for 4 samples"
    noise_measured: tuple[float, float, int] | None = None  # (measured std, expected std, elements)
    # make_private_with_epsilon: (the PrivacyEngine, target_epsilon, target_delta, epochs)
    budget: tuple[Any, Any, Any, Any] | None = None


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
    try:
        from opacus.utils.fast_gradient_clipping_utils import DPTensorFastGradientClipping
    except ImportError:  # releases before ghost clipping
        DPTensorFastGradientClipping = None
    scaler_class = getattr(getattr(torch, "amp", None), "GradScaler", None)
    saved_scaler_step = getattr(scaler_class, "step", None)
    saved_backward = torch.Tensor.backward

    def engine_wrapper(name: str) -> Any:
        real = saved[name]

        def wrapped(self: Any, *args: Any, **kwargs: Any) -> Any:
            if state.depth:
                return real(self, *args, **kwargs)
            bound = bind_arguments(real, self, args, kwargs)
            if not state.wrapped:
                _keep_copy(state, bound.get("module"))
            state.depth += 1
            try:
                result = real(self, *args, **kwargs)
            except Exception as exc:
                if not state.wrapped:  # Opacus refused the setup: that is the crash real training gets
                    state.observation.engine = name
                    state.engine_error = exc
                raise
            finally:
                state.depth -= 1
            if not state.wrapped:
                state.wrapped = True
                _instrument(state, name, bound, result)
                if name == "make_private_with_epsilon":
                    state.budget = (self, bound.get("target_epsilon"), bound.get("target_delta"), bound.get("epochs"))
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

    if DPTensorFastGradientClipping is not None:
        real_ghost_backward = DPTensorFastGradientClipping.backward

        def ghost_backward(self: Any, *args: Any, **kwargs: Any) -> Any:
            if state.ghost and state.depth == 0:
                _note_ghost_loss(state, self)
            return real_ghost_backward(self, *args, **kwargs)

        state.restore.append((DPTensorFastGradientClipping, "backward", real_ghost_backward))
        DPTensorFastGradientClipping.backward = ghost_backward
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
        for owner, name, original in reversed(state.restore):
            setattr(owner, name, original)
    observation = state.observation
    if how is not None:
        if cause is not None and (state.wrapped or cause is state.engine_error):
            if cause is state.engine_error:
                observation.notes.append(f"{observation.engine} itself raised: Opacus refuses this setup")
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
    stepped = stepped_parameters(bound.get("module"), bound.get("optimizer"))
    if stepped is not None:
        settings[STEPPED_PARAMETERS] = stepped
    observation.settings = settings
    if bound.get("criterion") is not None:
        criterion = bound["criterion"]
        observation.criterion = getattr(criterion, "__qualname__", None) or type(criterion).__name__
    state.poisson = settings.get("poisson_sampling") is not False
    state.batch_dim = 0 if settings.get("batch_first") is not False else 1
    state.max_grad_norm = _clipping_bound(settings.get("max_grad_norm"))
    state.loss_reduction = str(settings.get("loss_reduction") or "mean")
    state.judge_reduction = settings.get("grad_sample_mode") in (None, "hooks", "functorch", "ew")
    state.ghost = str(settings.get("grad_sample_mode") or "").startswith("ghost")
    parts = list(result) if isinstance(result, tuple) else [result]
    model, optimizer, loader = parts[0], parts[1], parts[-1]
    if hooks_object(model):  # `wrap_model=False` (opacus >= 1.6): the hooks sit on the module passed in
        model = bound.get("module")
    state.private_model = model
    state.private_optimizers.append(optimizer)
    for attribute in ("batch_sampler", "sampler"):
        sampler = getattr(loader, attribute, None)
        if sampler is not None:
            state.private_samplers.append(sampler)
    if getattr(loader, "num_workers", 1) == 0 and getattr(loader, "batch_sampler", None) is not None:
        _count_drawn(state, loader.batch_sampler)

    def count_samples(module: Any, args: tuple, kwargs: dict) -> None:
        if module.training and torch.is_grad_enabled():
            tensors = [t for t in tensors_of([args, kwargs]) if t.dim() > state.batch_dim]
            if tensors:
                state.samples_since_step += int(tensors[0].shape[state.batch_dim])
                state.forwards_since_step += 1
                if observation.first_batch is None:
                    observation.first_batch = (map_tensors(args, detached_copy), map_tensors(kwargs, detached_copy))

    model.register_forward_pre_hook(count_samples, with_kwargs=True)
    real_add_noise = optimizer.add_noise
    real_step = optimizer.step

    def add_noise(*args: Any, **kwargs: Any) -> Any:
        _check_rows(state, optimizer)
        _check_ghost_step(state)
        _measure_update(state, optimizer)
        out = real_add_noise(*args, **kwargs)
        if state.noise_measured is None:
            _measure_noise(state, optimizer)
        return out

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
    state.forwards_since_step = 0
    state.drawn_since_step = state.batches_drawn_since_step = 0
    if state.max_grad_norm is None or samples == 0:
        return
    ratio = math.sqrt(squares) / (samples * state.max_grad_norm)
    if ratio > state.worst_ratio:
        state.worst_ratio, state.worst_step = ratio, observation.steps


def _check_rows(state: _State, optimizer: Any) -> None:
    """Hooks modes, a step with one training forward pass: each parameter's per-sample gradient has
    one row per sample. (Several forward passes before one backward sum into one set of rows, so
    such steps are not judged.)"""
    if not state.judge_reduction or state.forwards_since_step != 1 or state.samples_since_step < 2:
        return
    samples, what = state.samples_since_step, "samples"
    if state.count_drawn and state.batches_drawn_since_step == 1:
        samples, what = state.drawn_since_step, "elements drawn from the private loader"
        if samples < 2:
            return
    flat = getattr(optimizer, "_get_flat_grad_sample", None)
    if flat is None:
        return
    state.row_steps_judged += 1
    names = _parameter_names(state)
    for p in optimizer.params:
        try:
            rows = int(flat(p).shape[0])
        except Exception:
            return  # no per-sample gradient: Opacus raises on its own in clipping
        if rows != samples and len(state.row_mismatches) < 3:
            name = names.get(id(p), f"a parameter of shape {tuple(p.shape)}")
            state.row_mismatches.append(f"step {state.observation.steps + 1}: {name} has {rows} rows for {samples} {what}")


def _note_ghost_loss(state: _State, loss: Any) -> None:
    """A backward pass through the criterion make_private returned: the clipping happens here, and
    only per sample when the loss it wraps has one entry per sample."""
    state.ghost_backwards += 1
    per_sample = getattr(loss, "loss_per_sample", None)
    if per_sample is None or not hasattr(per_sample, "dim"):
        return
    step = state.observation.steps + 1
    if per_sample.dim() == 0:
        _ghost_problem(state, "the criterion gave one loss for the whole batch, not one per sample (a loss function "
                              "instead of an nn.*Loss module?)", step)
    elif state.forwards_since_step == 1 and state.samples_since_step > 1 \
            and int(per_sample.shape[0]) != state.samples_since_step:
        _ghost_problem(state, f"the criterion gave {int(per_sample.shape[0])} losses for {state.samples_since_step} "
                              "samples", step)


def _check_ghost_step(state: _State) -> None:
    """Ghost clipping: the backward pass(es) of this step went through the returned criterion."""
    if not state.ghost:
        return
    if state.ghost_backwards == 0:
        _ghost_problem(state, "no backward pass went through the criterion make_private returned (the loss was "
                              "computed with another one): nothing was clipped", state.observation.steps + 1)
    if state.ghost_backwards > 1:
        state.ghost_accumulated.append(state.observation.steps + 1)
    state.ghost_backwards = 0
    state.ghost_steps += 1


def _ghost_problem(state: _State, what: str, step: int) -> None:
    steps = state.ghost_problems.setdefault(what, [])
    if step not in steps:
        steps.append(step)


def _steps_text(steps: list[int]) -> str:
    return f"step {steps[0]}" if len(steps) == 1 else "steps " + ", ".join(str(n) for n in steps)


def _count_drawn(state: _State, batch_sampler: Any) -> None:
    """Count the elements the private batch sampler yields (its class's __iter__ is wrapped for the
    run and restored after; other instances of the class pass through)."""
    owner = type(batch_sampler)
    real = owner.__dict__.get("__iter__")
    if real is None:
        return

    def counted(self: Any) -> Any:
        for indices in real(self):
            if self is batch_sampler:
                try:
                    state.drawn_since_step += len(indices)
                    state.batches_drawn_since_step += 1
                except TypeError:
                    state.count_drawn = False
            yield indices

    state.restore.append((owner, "__iter__", real))
    owner.__iter__ = counted
    state.count_drawn = True


def _parameter_names(state: _State) -> dict[int, str]:
    if state.private_model is None:
        return {}
    inner = getattr(state.private_model, "_module", state.private_model)
    try:
        return {id(p): name for name, p in inner.named_parameters()}
    except Exception:
        return {}


def _measure_noise(state: _State, optimizer: Any) -> None:
    """After add_noise: the added noise is p.grad - p.summed_grad, over every parameter."""
    import torch

    multiplier = getattr(optimizer, "_adjusted_noise_multiplier", getattr(optimizer, "noise_multiplier", None))
    bound = getattr(optimizer, "max_grad_norm", None)
    if not isinstance(multiplier, (int, float)) or not isinstance(bound, (int, float)):
        return
    parts = []
    for p in optimizer.params:
        summed = getattr(p, "summed_grad", None)
        if summed is not None and p.grad is not None:
            parts.append(p.grad.detach().double().reshape(-1) - summed.detach().double().reshape(-1))
    if not parts:
        return
    noise = torch.cat(parts)
    state.noise_measured = (float(noise.std()) if noise.numel() > 1 else 0.0, float(multiplier) * float(bound),
                            int(noise.numel()))


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
    if state.row_steps_judged:
        found.append(Invariant(
            "per-sample-rows", not state.row_mismatches,
            f"every parameter's per-sample gradient has one row per sample in {state.row_steps_judged} judged step(s)"
            if not state.row_mismatches else "; ".join(state.row_mismatches),
            "privacy",
        ))
    if state.ghost_steps:
        found.append(Invariant(
            "ghost-clipping", not state.ghost_problems,
            f"every one of {state.ghost_steps} step(s) was clipped by the returned criterion's backward, one loss "
            "per sample" if not state.ghost_problems
            else "; ".join(f"{_steps_text(steps)}: {what}" for what, steps in state.ghost_problems.items()),
            "privacy",
        ))
    if state.ghost_steps:
        found.append(Invariant(
            "ghost-accounting", not state.ghost_accumulated,
            f"one backward pass through the returned criterion's loss before each of {state.ghost_steps} step(s)"
            if not state.ghost_accumulated else
            f"{_steps_text(state.ghost_accumulated)}: several backward passes before one step (accumulation)",
            "accounting",
        ))
    if state.noise_measured is not None:
        found.append(_noise_invariant(*state.noise_measured))
    budget = _budget_invariant(state)
    if budget is not None:
        found.append(budget)
    return found


def _budget_invariant(state: _State) -> Invariant | None:
    """The accountant's ε after the observed steps against make_private_with_epsilon's target."""
    if state.budget is None:
        return None
    engine, target, delta, epochs = state.budget
    if not isinstance(target, (int, float)) or not isinstance(delta, (int, float)) or not state.observation.steps:
        return None
    try:
        spent = float(engine.get_epsilon(delta))
    except Exception:  # an accountant that cannot answer: nothing measured
        return None
    return Invariant(
        "privacy-budget", spent <= target * (1 + _BUDGET_SLACK),
        f"ε after {state.observation.steps} step(s): {spent:.4g}; target_epsilon={target:g} for epochs={epochs}",
        "privacy",
    )


def _noise_invariant(measured: float, expected: float, elements: int) -> Invariant:
    """Judged only when the estimate is tight: relative tolerance max(10%, 5/sqrt(2n))."""
    text = f"noise std {measured:.4g} over {elements} elements, configured noise_multiplier x max_grad_norm = {expected:.4g}"
    if expected == 0:
        return Invariant("noise-scale", measured == 0, text + " (no noise: no privacy guarantee)", "privacy")
    if elements < _NOISE_MIN_ELEMENTS:
        return Invariant("noise-scale", True, text + " (too few elements to judge)", "privacy")
    tolerance = max(0.1, 5 / math.sqrt(2 * elements))
    return Invariant("noise-scale", abs(measured / expected - 1) <= tolerance, text, "privacy")


def _keep_copy(state: _State, module: Any) -> None:
    """A copy of the model before Opacus hooks it, for the per-sample check on the first batch."""
    try:
        state.observation.module = copy.deepcopy(module)
    except Exception as exc:
        state.observation.notes.append(
            f"the model given to the engine cannot be copied ({type(exc).__name__}): per-sample gradients not compared"
        )


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

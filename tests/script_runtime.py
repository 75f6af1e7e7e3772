"""Run a catalogue *script case* (a training function) under real Opacus and measure what happens.

A script case's CASE names a function of the case file (`{"script": "train", "runtime": ...}`, see
docs/dev/catalogue-format.md). The harness calls it in-process with Opacus instrumented; it never
trusts the case's description, it measures:

- the optimizers add no noise (Opacus' `_generate_noise` returns zeros; the accountant still sees the
  script's noise multiplier) and every `make_private*` call gets a small `max_grad_norm` (C), so that
  one step's update shows whether per-sample clipping happened: with noise 0 the update
  `p.grad` after `DPOptimizer.pre_step()` is the sum of clipped per-sample gradients divided by
  the expected batch size (mean) or not divided (sum), hence `||update|| <= n * C / expected_batch_size`
  for n samples. A larger update is a privacy violation ("clipping");
- in hooks mode, each step's `p.grad` must equal the clipped sum of `p.grad_sample` ("aggregation"),
  and `p.grad_sample` must equal the true per-sample gradients: each sample run alone through the
  unwrapped model and the same loss module, hooks disabled ("per-sample"). Only when the loss is a
  `torch.nn` loss module called on the private model's output (otherwise not checked);
- each training forward of a private model (train mode, grad enabled) after `make_private*` must
  get its input from the data loader the engine returned ("loader": otherwise the batches were not
  Poisson-sampled and the ε the accountant reports is for a sampling that did not happen);
- in ghost mode, one backward through the returned criterion's loss per step ("accounting": Opacus' ghost
  optimizer accumulates several, but the accountant counts each step at the sample rate of one batch);
- after the script, the ε each `make_private_with_epsilon` engine reports must not exceed its
  `target_epsilon` ("budget": more steps ran than the noise was calibrated for);
- an exception is a crash (its text is compared with CASE's `error`).

The private model is the GradSampleModule `make_private*` returns, or with `wrap_model=False` (opacus
>= 1.6: a hooks object comes back) the module passed in, which carries the hooks.

Verdicts: "crash", "silent" (a violation was measured), "ok" (at least one DP step ran and nothing
was violated), "no-step" (the script never stepped a DPOptimizer: nothing was measured).
"""

from __future__ import annotations

import contextlib
import traceback
from collections.abc import Iterator
from dataclasses import dataclass, field

CLIP = 0.01  # max_grad_norm every make_private* call gets during a script case
RTOL, ATOL = 1e-4, 1e-6


@dataclass
class ScriptVerdict:
    verdict: str
    error: str | None = None
    violations: list[str] = field(default_factory=list)
    steps: int = 0
    checks: list[str] = field(default_factory=list)

    def summary(self) -> str:
        lines = [f"verdict: {self.verdict} ({self.steps} DP steps; checks run: {', '.join(sorted(set(self.checks))) or 'none'})"]
        if self.error:
            lines.append(f"error: {self.error}")
        lines += [f"violation: {v}" for v in self.violations[:5]]
        return "\n".join(lines)


@dataclass
class _Recorder:
    dp_batches: dict[int, object] = field(default_factory=dict)  # id -> tensor (kept alive)
    dp_loaders: int = 0
    samples: int = 0  # samples forwarded since the last step
    forwards: int = 0
    last_forward: tuple | None = None  # (gsm, args, kwargs, output)
    last_loss: tuple | None = None  # (loss module, args, kwargs)
    violations: list[str] = field(default_factory=list)
    checks: list[str] = field(default_factory=list)
    steps: int = 0
    inside_private: int = 0  # depth of GradSampleModule forwards running (their inner module's are not counted again)
    ghost_backwards: int = 0  # backward passes through the ghost criterion's loss since the last step
    budgets: list = field(default_factory=list)  # (engine, target_epsilon, target_delta, epochs) per make_private_with_epsilon


def _tensors(value) -> Iterator:
    import torch

    if isinstance(value, torch.Tensor):
        yield value
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _tensors(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _tensors(item)


@contextlib.contextmanager
def instrumented() -> Iterator[_Recorder]:
    import opacus.optimizers.optimizer as flat_module
    import torch
    from opacus import PrivacyEngine
    from opacus.data_loader import DPDataLoader
    from opacus.grad_sample import GradSampleModule
    from opacus.grad_sample.gsm_base import AbstractGradSampleModule
    from opacus.optimizers import DPOptimizer

    try:  # ghost clipping (opacus >= 1.5)
        import opacus.optimizers.optimizer_fast_gradient_clipping as ghost_module
        from opacus.optimizers.optimizer_fast_gradient_clipping import DPOptimizerFastGradientClipping
        from opacus.utils.fast_gradient_clipping_utils import DPTensorFastGradientClipping
    except ImportError:
        ghost_module = DPOptimizerFastGradientClipping = DPTensorFastGradientClipping = None

    try:  # make_private(..., wrap_model=False) returns a hooks object (opacus >= 1.6)
        from opacus.grad_sample.gsm_base import AbstractGradSampleHooks
    except ImportError:
        AbstractGradSampleHooks = None

    rec = _Recorder()
    handles: list = []
    saved = {
        (flat_module, "_generate_noise"): flat_module._generate_noise,
        (PrivacyEngine, "make_private"): PrivacyEngine.make_private,
        (PrivacyEngine, "make_private_with_epsilon"): PrivacyEngine.make_private_with_epsilon,
        (DPDataLoader, "__iter__"): DPDataLoader.__iter__,
        (GradSampleModule, "forward"): GradSampleModule.forward,
        (AbstractGradSampleModule, "forward"): AbstractGradSampleModule.forward,
        (DPOptimizer, "pre_step"): DPOptimizer.pre_step,
        (torch.nn.modules.loss._Loss, "__call__"): torch.nn.modules.loss._Loss.__call__,
    }
    if ghost_module is not None:
        # 1.6 imports its own `_generate_noise`; 1.5.x inherits DPOptimizer.add_noise, which the
        # flat module's patched function already covers.
        if hasattr(ghost_module, "_generate_noise"):
            saved[(ghost_module, "_generate_noise")] = ghost_module._generate_noise
        saved[(DPOptimizerFastGradientClipping, "pre_step")] = DPOptimizerFastGradientClipping.pre_step
        saved[(DPTensorFastGradientClipping, "backward")] = DPTensorFastGradientClipping.backward

    def make_private(self, *args, **kwargs):
        if isinstance(kwargs.get("max_grad_norm"), (int, float)):
            kwargs["max_grad_norm"] = CLIP
        result = saved[(PrivacyEngine, "make_private")](self, *args, **kwargs)
        rec.dp_loaders += sum(isinstance(item, DPDataLoader) for item in result)
        track_hooks(result, args, kwargs)
        return result

    def make_private_with_epsilon(self, *args, **kwargs):
        if isinstance(kwargs.get("max_grad_norm"), (int, float)):
            kwargs["max_grad_norm"] = CLIP
        result = saved[(PrivacyEngine, "make_private_with_epsilon")](self, *args, **kwargs)
        rec.dp_loaders += sum(isinstance(item, DPDataLoader) for item in result)
        rec.budgets.append((self, kwargs.get("target_epsilon"), kwargs.get("target_delta"), kwargs.get("epochs")))
        track_hooks(result, args, kwargs)
        return result

    def track_hooks(result, args, kwargs):
        """`wrap_model=False`: the hooks sit on the module passed in, whose forwards are the private ones
        (opacus >= 1.6 returns a hooks object; 1.5 ignores the keyword and returns a GradSampleModule,
        and the script may call either it or the module passed in)."""
        module, first = kwargs.get("module", args[0] if args else None), result[0]
        if module is None or module is first or kwargs.get("wrap_model", True) is not False:
            return
        if isinstance(first, torch.nn.Module):
            private = first
        elif AbstractGradSampleHooks is not None and isinstance(first, AbstractGradSampleHooks):
            private = _HookedModule(module, first)
        else:
            return

        def hook(_module, args, kw, output):
            if rec.inside_private == 0 and getattr(first, "hooks_enabled", True):
                _forward(private, output, args, kw)
        handles.append(module.register_forward_hook(hook, with_kwargs=True))

    def loader_iter(self):
        for batch in saved[(DPDataLoader, "__iter__")](self):
            for tensor in _tensors(batch):
                rec.dp_batches[id(tensor)] = tensor
            yield batch

    def forward_of(cls):
        original = saved[(cls, "forward")]

        def forward(self, *args, **kwargs):
            rec.inside_private += 1
            try:
                output = original(self, *args, **kwargs)
            finally:
                rec.inside_private -= 1
            return _forward(self, output, args, kwargs)
        return forward

    def _forward(self, output, args, kwargs):
        if self.training and torch.is_grad_enabled():
            inputs = list(_tensors(args))
            rec.forwards += 1
            if inputs:
                rec.samples += inputs[0].shape[0] if inputs[0].dim() else 1
            if rec.dp_loaders:
                rec.checks.append("loader")
                if inputs and not any(id(t) in rec.dp_batches for t in inputs):
                    rec.violations.append(
                        "loader: a training forward of the private model got a batch that the engine's "
                        "DPDataLoader did not yield (not Poisson-sampled: the reported ε is wrong)")
            rec.last_forward = (self, args, kwargs, output)
        return output

    def loss_call(self, *args, **kwargs):
        result = saved[(torch.nn.modules.loss._Loss, "__call__")](self, *args, **kwargs)
        if rec.last_forward is not None and args and args[0] is rec.last_forward[3]:
            rec.last_loss = (self, args, kwargs)
        return result

    def pre_step_of(cls):
        original = saved[(cls, "pre_step")]

        def pre_step(self, closure=None):
            expected = None
            if type(self) is DPOptimizer:  # flat clipping, hooks/functorch/ew modes
                expected = _hooks_checks(self, rec)
            if cls is DPOptimizerFastGradientClipping:
                if rec.ghost_backwards > 1:
                    rec.violations.append(
                        f"accounting: {rec.ghost_backwards} backward passes through the ghost criterion's loss before "
                        f"one step: the accountant counts one batch per step (the ε reported is too small)")
                rec.ghost_backwards = 0
            ran = original(self, closure)
            if ran:
                rec.steps += 1
                _bound_check(self, rec, expected)
            rec.samples = 0
            rec.forwards = 0
            rec.last_forward = rec.last_loss = None
            return ran
        return pre_step

    def ghost_backward(self, *args, **kwargs):
        rec.ghost_backwards += 1
        return saved[(DPTensorFastGradientClipping, "backward")](self, *args, **kwargs)

    def no_noise(std, reference, *args, **kwargs):
        return torch.zeros_like(reference)

    flat_module._generate_noise = no_noise
    PrivacyEngine.make_private = make_private
    PrivacyEngine.make_private_with_epsilon = make_private_with_epsilon
    DPDataLoader.__iter__ = loader_iter
    GradSampleModule.forward = forward_of(GradSampleModule)
    AbstractGradSampleModule.forward = forward_of(AbstractGradSampleModule)
    DPOptimizer.pre_step = pre_step_of(DPOptimizer)
    if ghost_module is not None:
        if (ghost_module, "_generate_noise") in saved:
            ghost_module._generate_noise = no_noise
        DPOptimizerFastGradientClipping.pre_step = pre_step_of(DPOptimizerFastGradientClipping)
        DPTensorFastGradientClipping.backward = ghost_backward
    torch.nn.modules.loss._Loss.__call__ = loss_call
    try:
        yield rec
    finally:
        for (owner, name), value in saved.items():
            setattr(owner, name, value)
        for handle in handles:
            handle.remove()


class _HookedModule:
    """The module `make_private(..., wrap_model=False)` put its hooks on, seen as the private model."""

    def __init__(self, module, hooks) -> None:
        self._module = module
        self._hooks = hooks

    @property
    def training(self) -> bool:
        return self._module.training

    def disable_hooks(self) -> None:
        self._hooks.disable_hooks()

    def enable_hooks(self) -> None:
        self._hooks.enable_hooks()


def _params(optimizer) -> list:
    return [p for group in optimizer.param_groups for p in group["params"] if p.requires_grad]


def _hooks_checks(optimizer, rec: _Recorder):
    """Before a hooks-mode step: the expected update (clipped sum of grad_sample, scaled, no noise),
    and the per-sample gradients against a one-sample-at-a-time reference."""
    import torch

    params = [p for p in _params(optimizer) if getattr(p, "grad_sample", None) is not None]
    # A parameter without per-sample gradients: Opacus' own step raises on it ("Per sample gradient is not
    # initialized"); `accumulated_iterations` would raise another error first, so nothing is measured.
    if not params or len(params) != len(_params(optimizer)) or optimizer.accumulated_iterations != 1:
        return None
    samples = [p.grad_sample if isinstance(p.grad_sample, torch.Tensor) else torch.cat(p.grad_sample) for p in params]
    n = samples[0].shape[0]
    norms = torch.stack([s.reshape(n, -1).norm(dim=1) for s in samples], dim=1).norm(dim=1)
    factor = (optimizer.max_grad_norm / (norms + 1e-6)).clamp(max=1.0)
    scale = optimizer.expected_batch_size if optimizer.loss_reduction == "mean" else 1
    expected = {id(p): torch.einsum("i,i...", factor, s) / scale for p, s in zip(params, samples)}
    _per_sample_check(params, samples, rec)
    return expected


def _per_sample_check(params, samples, rec: _Recorder) -> None:
    import torch

    if rec.last_forward is None or rec.last_loss is None or rec.forwards != 1:
        return
    gsm, args, kwargs, output = rec.last_forward
    loss_module, loss_args, loss_kwargs = rec.last_loss
    n = samples[0].shape[0]
    if not isinstance(output, torch.Tensor) or output.shape[0] != n or kwargs or loss_kwargs:
        return

    def row(value, i):
        if isinstance(value, torch.Tensor) and value.dim() and value.shape[0] == n:
            return value[i:i + 1]
        return value

    rec.checks.append("per-sample")
    gsm.disable_hooks()
    try:
        worst = 0.0
        for i in range(n):
            out = gsm._module(*[row(a, i) for a in args])
            loss = loss_module(out, *[row(a, i) for a in loss_args[1:]])
            grads = torch.autograd.grad(loss, params, allow_unused=True)
            for grad, sample in zip(grads, samples):
                reference = torch.zeros_like(sample[i]) if grad is None else grad
                error = (sample[i] - reference).norm().item()
                if error > RTOL * reference.norm().item() + ATOL:
                    ratio = sample[i].norm().item() / max(reference.norm().item(), 1e-12)
                    worst = max(worst, ratio)
                    rec.violations.append(
                        f"per-sample: grad_sample of sample {i} is {ratio:.4g}x the true per-sample gradient "
                        f"(error {error:.3g})")
                    break
    finally:
        gsm.enable_hooks()


def _bound_check(optimizer, rec: _Recorder, expected) -> None:
    import torch

    params = [p for p in _params(optimizer) if p.grad is not None]
    if not params:
        return
    rec.checks.append("clipping")
    update = torch.cat([p.grad.reshape(-1) for p in params]).norm().item()
    scale = optimizer.expected_batch_size if optimizer.loss_reduction == "mean" else 1
    n = rec.samples
    bound = n * optimizer.max_grad_norm / scale
    if update > bound * (1 + 1e-3) + 1e-9:
        rec.violations.append(
            f"clipping: the update's norm {update:.6g} exceeds the clipping bound {bound:.6g} "
            f"({n} samples, max_grad_norm {optimizer.max_grad_norm}, noise 0): per-sample clipping did not hold")
    if expected is not None:
        rec.checks.append("aggregation")
        for p in params:
            want = expected.get(id(p))
            if want is not None and not torch.allclose(p.grad, want, rtol=1e-3, atol=1e-7):
                rec.violations.append("aggregation: p.grad is not the clipped sum of p.grad_sample")
                break


def _budget_check(rec: _Recorder) -> None:
    """After the script: the ε each `make_private_with_epsilon` engine's accountant reports for the steps that ran
    must not exceed the `target_epsilon` the noise was calibrated for ("budget": the guarantee the script asked for
    does not hold). 1% above the target is allowed (Opacus' own `epsilon_tolerance` is 0.01)."""
    for engine, target, delta, epochs in rec.budgets:
        if not isinstance(target, (int, float)) or not isinstance(delta, (int, float)):
            continue
        rec.checks.append("budget")
        spent = engine.get_epsilon(delta)
        if spent > target * 1.01:
            rec.violations.append(
                f"budget: the accountant reports ε = {spent:.3f} after training, above the target_epsilon={target} "
                f"make_private_with_epsilon(epochs={epochs}) calibrated the noise for")


def run_script(function, args=(), kwargs=None) -> ScriptVerdict:
    """Call `function(*args, **kwargs)` with Opacus instrumented and measure (see the module docstring)."""
    import torch

    torch.manual_seed(0)
    with instrumented() as rec:
        try:
            function(*args, **(kwargs or {}))
        except Exception as exc:  # the crash is the measurement
            text = f"{type(exc).__name__}: {exc}"
            return ScriptVerdict("crash", text + "\n" + "".join(traceback.format_exception(exc)[-3:]),
                                 rec.violations, rec.steps, rec.checks)
        _budget_check(rec)
    if rec.violations:
        return ScriptVerdict("silent", None, rec.violations, rec.steps, rec.checks)
    if rec.steps == 0:
        return ScriptVerdict("no-step", None, [], 0, rec.checks)
    return ScriptVerdict("ok", None, [], rec.steps, rec.checks)

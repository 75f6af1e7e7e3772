"""Do two models compute the same thing in ordinary (non-private) training?

This is what makes a *safe* fix safe: the original and the fixed model get the same
weights (the fixed model loads the original's state dict; a layer the fix replaced, such
as nn.LSTM -> DPLSTM, loads its old weights through its own `load_state_dict`, as
ModuleValidator.fix does), the same inputs and the same random state, and must give the
same outputs and the same gradients. A parameter the fix froze has no gradient any more:
it counts as zero, so it must have had a zero gradient before. torch is imported only
when this runs (in tests and in the verify child process).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from dp_lint.verify.runtime.smoke import ATOL, RTOL, default_loss, make_inputs, tensors_of


@dataclass
class Comparison:
    outputs_equal: bool = False
    gradients_equal: bool = False
    max_output_error: float | None = None
    max_gradient_error: float | None = None
    parameters: list[dict] = field(default_factory=list)  # name, status, max_abs_error
    error: str | None = None

    @property
    def equal(self) -> bool:
        return self.error is None and self.outputs_equal and self.gradients_equal

    def problems(self) -> list[str]:
        if self.error is not None:
            return [self.error]
        found = [] if self.outputs_equal else [f"outputs differ (max {self.max_output_error:.3g})"]
        found += [f"gradient of {p['name']} {p['status']}" for p in self.parameters if p["status"] != "ok"]
        return found


def compare_models(original, fixed, inputs: Sequence, loss: Callable, seed: int = 0) -> Comparison:
    """Run `inputs` through both models (training mode, same seed) and compare outputs and
    gradients of `loss(output)`, within the smoke test's tolerance."""
    import torch


    result = Comparison()
    replaced, load_error = _load_weights(original, fixed)
    if load_error:
        result.error = load_error
        return result

    def run(model):
        model.train()
        model.zero_grad(set_to_none=True)
        torch.manual_seed(seed)
        output = model(*inputs)
        loss(output).backward()
        grads = {name: (p.grad.detach() if p.grad is not None else torch.zeros_like(p))
                 for name, p in model.named_parameters()}
        return [t.detach() for t in tensors_of(output)], grads

    out_a, grads_a = run(original)
    out_b, grads_b = run(fixed)

    def difference(a, b):
        error = (a.float() - b.float()).abs().max().item() if a.numel() else 0.0
        tolerance = ATOL + RTOL * (b.float().abs().max().item() if b.numel() else 0.0)
        return error, error <= tolerance

    result.outputs_equal = len(out_a) == len(out_b)
    result.max_output_error = 0.0
    for a, b in zip(out_a, out_b):
        if a.shape != b.shape:
            result.outputs_equal = False
            continue
        error, ok = difference(a, b)
        result.max_output_error = max(result.max_output_error, error)
        result.outputs_equal = result.outputs_equal and ok

    result.gradients_equal = True
    result.max_gradient_error = 0.0
    for name, a in grads_a.items():
        if any(name.startswith(prefix) for prefix in replaced):
            continue
        b = grads_b.get(name)
        if b is None or a.shape != b.shape:
            result.gradients_equal = False
            result.parameters.append({"name": name, "status": "shape-differs", "max_abs_error": None})
            continue
        error, ok = difference(a, b)
        result.max_gradient_error = max(result.max_gradient_error, error)
        result.gradients_equal = result.gradients_equal and ok
        result.parameters.append({"name": name, "status": "ok" if ok else "differs", "max_abs_error": error})
    for prefix in replaced:
        # A replaced layer names its parameters differently (in_proj_weight vs qlinear.weight,
        # one the concatenation of the others): compare the squared gradient norm of the layer.
        norm_a = sum(float(g.float().pow(2).sum()) for n, g in grads_a.items() if n.startswith(prefix))
        norm_b = sum(float(g.float().pow(2).sum()) for n, g in grads_b.items() if n.startswith(prefix))
        error = abs(norm_a - norm_b)
        ok = error <= ATOL + RTOL * max(norm_a, norm_b)
        result.max_gradient_error = max(result.max_gradient_error, error)
        result.gradients_equal = result.gradients_equal and ok
        result.parameters.append({"name": prefix[:-1] + " (replaced layer, gradient norm)",
                                  "status": "ok" if ok else "differs", "max_abs_error": error})
    return result


def ordinary_differences(original, fixed, input_specs: Sequence[str], loss_reduction: str = "mean",
                         batch_size: int = 4, seed: int = 0) -> list[str]:
    """`compare_models` on inputs built from specs with the smoke test's default loss;
    the differences found (empty when the models are equivalent)."""

    inputs = make_inputs(input_specs, batch_size, seed=seed)
    comparison = compare_models(original, fixed, inputs, lambda out: default_loss(out, batch_size, loss_reduction),
                                seed=seed + 1)
    return comparison.problems()


def _load_weights(original, fixed) -> tuple[list[str], str | None]:
    """Give `fixed` the original's weights; returns (prefixes of replaced layers, error)."""
    originals = dict(original.named_modules())
    replaced: list[str] = []
    for name, module in fixed.named_modules():
        before = originals.get(name)
        if name and before is not None and type(before) is not type(module) and not any(
            name.startswith(prefix) for prefix in replaced
        ):
            try:
                module.load_state_dict(before.state_dict())
            except (RuntimeError, KeyError, ValueError) as exc:
                return replaced, f"{name}: the replacement cannot load the original's weights ({exc})"
            replaced.append(name + ".")
    missing, unexpected = fixed.load_state_dict(original.state_dict(), strict=False)
    outside = [k for k in [*missing, *unexpected] if not any(k.startswith(prefix) for prefix in replaced)]
    if outside:
        return replaced, f"the models do not hold the same parameters and buffers: {', '.join(outside)}"
    return replaced, None

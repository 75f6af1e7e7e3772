"""Do two models compute the same thing in ordinary (non-private) training?

Used to prove that a *safe* fix is safe: the original and the fixed model get the same
weights (the fixed model loads the original's state dict, which also proves the state
dict is compatible), the same inputs and the same random state (dropout), and must give
the same outputs and the same gradients. A parameter the fix froze must have had no
gradient in the original either. torch is imported only when this runs.
"""

from __future__ import annotations

from typing import Sequence


def compare_ordinary(original, fixed, input_specs: Sequence[str], loss_reduction: str = "mean",
                     batch_size: int = 4, seed: int = 0, atol: float = 1e-6) -> list[str]:
    """Differences between the two models (empty when they are equivalent)."""
    import torch

    from dp_lint.smoke import _tensors, default_loss, make_inputs

    problems, replaced = _load_weights(original, fixed)
    if problems:
        return problems
    inputs = make_inputs(input_specs, batch_size, seed=seed)
    results = []
    for model in (original, fixed):
        model.train()
        model.zero_grad(set_to_none=True)
        torch.manual_seed(seed + 1)
        output = model(*inputs)
        default_loss(output, batch_size, loss_reduction).backward()
        grads = {name: (p.grad.detach().clone() if p.grad is not None else None) for name, p in model.named_parameters()}
        results.append(([t.detach() for t in _tensors(output)], grads))
    (out_a, grads_a), (out_b, grads_b) = results
    if len(out_a) != len(out_b):
        problems.append(f"different number of outputs: {len(out_a)} vs {len(out_b)}")
    for i, (a, b) in enumerate(zip(out_a, out_b)):
        if a.shape != b.shape or not torch.allclose(a, b, atol=atol, rtol=1e-5):
            problems.append(f"output {i} differs")
    for prefix in replaced:
        # A replaced layer names its parameters differently (in_proj_weight vs qlinear.weight,
        # one the concatenation of the others): compare the total squared gradient norm.
        norm_a = sum(float(g.pow(2).sum()) for n, g in grads_a.items() if n.startswith(prefix) and g is not None)
        norm_b = sum(float(g.pow(2).sum()) for n, g in grads_b.items() if n.startswith(prefix) and g is not None)
        if abs(norm_a - norm_b) > atol + 1e-5 * max(norm_a, norm_b):
            problems.append(f"gradients of {prefix[:-1]} differ (squared norm {norm_a:.6g} vs {norm_b:.6g})")
    for name, grad_a in grads_a.items():
        if any(name.startswith(prefix) for prefix in replaced):
            continue
        grad_b = grads_b.get(name)
        if grad_a is None and grad_b is None:
            continue
        if grad_a is not None and grad_b is None:
            if torch.count_nonzero(grad_a):
                problems.append(f"gradient of {name}: present before the fix, gone after")
            continue
        if grad_a is None:
            problems.append(f"gradient of {name}: absent before the fix, present after")
            continue
        if not torch.allclose(grad_a, grad_b, atol=atol, rtol=1e-5):
            problems.append(f"gradient of {name} differs (max {float((grad_a - grad_b).abs().max()):.3g})")
    return problems


def _load_weights(original, fixed) -> tuple[list[str], list[str]]:
    """Give `fixed` the original's weights. A submodule whose class the fix replaced
    (nn.LSTM -> DPLSTM) loads its old weights through its own `load_state_dict`, as
    ModuleValidator.fix does; everything else must match key for key."""
    originals = dict(original.named_modules())
    replaced = []
    for name, module in fixed.named_modules():
        before = originals.get(name)
        if name and before is not None and type(before) is not type(module):
            module.load_state_dict(before.state_dict())
            replaced.append(name + ".")
    missing, unexpected = fixed.load_state_dict(original.state_dict(), strict=False)
    outside = [k for k in [*missing, *unexpected] if not any(k.startswith(prefix) for prefix in replaced)]
    if outside:
        return [f"state dicts differ outside the replaced layers: {outside}"], replaced
    return [], replaced

"""Probes of the version-dependent Opacus behaviours in `dp_lint/config/opacus_versions.py`.

Run with the Opacus release to measure installed (torch 2.13, CPU):

    python scripts/measure_versions/probes.py            # JSON: {"opacus": "1.4.1", "results": {key: outcome}}

Each probe returns a short outcome string: "crash: <first line of the error>", "ok", "wrong: ...",
"unsupported: ..." (the API does not exist in that release). `tests/versions/test_version_table.py`
runs them and compares each outcome with what the table says for the installed release. Every probe
builds a tiny model with a fixed seed and runs one step on CPU; the whole set takes seconds.
"""

from __future__ import annotations

import json
import sys
import warnings


def _crash(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"crash: {type(exc).__name__}: {text}"


def _private(model, *, batch_first=True, grad_sample_mode="hooks", lr=0.1, batch_size=8, features=(8,),
             dtype="float", vocab=None):
    """make_private on `model` with a small loader of random data; returns (model, optimizer, loader[, criterion])."""
    import torch
    from opacus import PrivacyEngine

    torch.manual_seed(0)
    n = 32
    if dtype == "long":
        x = torch.randint(0, vocab, (n, *features))
    else:
        x = torch.randn(n, *features)
    y = torch.randint(0, 2, (n,))
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, y), batch_size=batch_size)
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    engine = PrivacyEngine()
    kwargs = {}
    if grad_sample_mode != "hooks":
        kwargs["grad_sample_mode"] = grad_sample_mode
        if grad_sample_mode == "ghost":
            kwargs["criterion"] = torch.nn.CrossEntropyLoss()
    return engine.make_private(module=model, optimizer=optimizer, data_loader=loader, noise_multiplier=0.0,
                               max_grad_norm=1.0, batch_first=batch_first, poisson_sampling=False, **kwargs)


def _attention_classifier(heads: int, batch_first: bool):
    import torch.nn as nn
    from opacus.layers import DPMultiheadAttention

    class Classifier(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Embedding(20, 8)
            self.attn = DPMultiheadAttention(8, heads, batch_first=batch_first)
            self.head = nn.Linear(8, 2)

        def forward(self, tokens):
            h = self.embed(tokens)
            h, _ = self.attn(h, h, h)
            return self.head(h.mean(dim=1))

    return Classifier()


def dpmha_batch_first_under_batch_first_engine(heads: int = 1) -> str:
    """DPMultiheadAttention(8, heads, batch_first=True) under make_private(batch_first=True), one step.

    Tokens [8, 5]: batch 8 differs from the 5 tokens, so swapped dimensions cannot hide."""
    import torch
    import torch.nn.functional as F

    torch.manual_seed(0)
    model = _attention_classifier(heads, batch_first=True)
    model, optimizer, loader = _private(model, dtype="long", vocab=20, features=(5,))[:3]
    tokens, labels = next(iter(loader))
    try:
        optimizer.zero_grad()
        F.cross_entropy(model(tokens), labels).backward()
        optimizer.step()
    except Exception as exc:  # the outcome is the measurement
        return _crash(exc)
    return "ok"


def dpmha_batch_first_forward(heads: int = 2) -> str:
    """DPMultiheadAttention(16, heads, batch_first=True) against nn.MultiheadAttention with the same weights."""
    import torch
    import torch.nn as nn
    from opacus.layers import DPMultiheadAttention

    torch.manual_seed(0)
    reference = nn.MultiheadAttention(16, heads, batch_first=True)
    layer = DPMultiheadAttention(16, heads, batch_first=True)
    layer.load_state_dict(reference.state_dict())
    x = torch.randn(3, 5, 16)
    with torch.no_grad():
        expected, _ = reference(x, x, x)
        got, _ = layer(x, x, x)
    difference = (expected - got).abs().max().item()
    return "ok" if difference < 1e-5 else f"wrong: output off nn.MultiheadAttention by {difference:.2g}"


def inplace_relu_after_trainable_layer() -> str:
    """Conv2d -> ReLU(inplace=True) inside GradSampleModule: forward and backward."""
    import torch
    import torch.nn as nn
    from opacus import GradSampleModule

    torch.manual_seed(0)
    model = GradSampleModule(nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU(inplace=True), nn.Flatten(),
                                           nn.Linear(4 * 6 * 6, 2)))
    try:
        model(torch.randn(4, 3, 8, 8)).sum().backward()
    except Exception as exc:
        return _crash(exc)
    return "ok"


def lr_scheduler_on_dp_optimizer(resumed: bool = False) -> str:
    """StepLR(DPOptimizer, gamma=0.1) stepped once: does the next update use the new learning rate?

    Measured on the size of the update: with noise 0 and a single Linear layer the update is
    lr * (clipped mean gradient); the second step is compared with the first. `resumed`: the
    optimizer's state is loaded back first (`optimizer.load_state_dict(...)`, as when a run resumes
    from a checkpoint); torch's `load_state_dict` assigns a new `param_groups` list."""
    import torch
    import torch.nn as nn
    import torch.nn.functional as F

    torch.manual_seed(0)
    model = nn.Linear(8, 2)
    model, optimizer, loader = _private(model, lr=1.0)[:3]
    if resumed:
        optimizer.load_state_dict(optimizer.state_dict())
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.1)
    x, y = next(iter(loader))
    sizes = []
    for _ in range(2):
        before = [p.detach().clone() for p in model.parameters()]
        optimizer.zero_grad()
        F.cross_entropy(model(x), y).backward()
        optimizer.step()
        scheduler.step()
        sizes.append(sum((p.detach() - b).norm() ** 2 for p, b in zip(model.parameters(), before)).sqrt().item())
    ratio = sizes[1] / sizes[0]
    inner_lr = optimizer.original_optimizer.param_groups[0]["lr"]
    if abs(ratio - 0.1) < 0.03:
        return "ok"
    return f"wrong: the update after scheduler.step() is {ratio:.2f}x the first (expected 0.1x); inner lr {inner_lr:g}"


def ghost_clipping_with_batch_memory_manager() -> str:
    """make_private(grad_sample_mode="ghost") then BatchMemoryManager(max_physical_batch_size=4), one logical step."""
    import torch
    import torch.nn as nn

    try:
        from opacus.utils.batch_memory_manager import BatchMemoryManager
    except ImportError as exc:
        return f"unsupported: {exc}"
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(8, 8), nn.ReLU(), nn.Linear(8, 2))
    try:
        result = _private(model, grad_sample_mode="ghost", batch_size=8)
    except Exception as exc:  # ghost mode missing in this release
        return f"unsupported: {_crash(exc)[7:]}"
    if len(result) != 4:
        return f"unsupported: make_private returned {len(result)} values in ghost mode"
    model, optimizer, criterion, loader = result
    before = [p.detach().clone() for p in model.parameters()]
    try:
        with BatchMemoryManager(data_loader=loader, max_physical_batch_size=4, optimizer=optimizer) as memory_loader:
            for steps, (x, y) in enumerate(memory_loader):
                optimizer.zero_grad()
                criterion(model(x), y).backward()
                optimizer.step()
                if steps == 1:  # two physical batches of 4 = one logical batch of 8
                    break
    except Exception as exc:
        return _crash(exc)
    moved = sum((p.detach() - b).norm() ** 2 for p, b in zip(model.parameters(), before)).sqrt().item()
    # One logical step with C=1, lr 0.1, noise 0 moves the parameters by at most 0.1.
    return "ok" if moved <= 0.1 + 1e-6 else f"wrong: one logical step moved the parameters by {moved:.3g} (bound 0.1)"


def opacus_0x_attach_api() -> str:
    """The Opacus 0.x API: `PrivacyEngine(model, batch_size=..., sample_size=..., ...)` then `engine.attach(optimizer)`."""
    import torch
    import torch.nn as nn
    from opacus import PrivacyEngine

    model = nn.Linear(8, 2)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    try:
        engine = PrivacyEngine(model, batch_size=8, sample_size=32, noise_multiplier=1.0, max_grad_norm=1.0)
        engine.attach(optimizer)
    except Exception as exc:
        return _crash(exc)
    return "ok"


def module_validator_fix() -> str:
    """ModuleValidator.fix on a model with a BatchNorm1d (it clones the model first)."""
    import torch.nn as nn
    from opacus.validators import ModuleValidator

    try:
        fixed = ModuleValidator.fix(nn.Sequential(nn.Linear(8, 8), nn.BatchNorm1d(8), nn.Linear(8, 2)))
    except Exception as exc:
        return _crash(exc)
    return "ok" if not ModuleValidator.validate(fixed, strict=False) else "wrong: the fixed model does not validate"


def wrap_model_false_result_as_model() -> str:
    """`make_private(..., wrap_model=False)` and its first result called as the model."""
    import torch
    import torch.nn as nn
    from opacus import PrivacyEngine

    torch.manual_seed(0)
    model = nn.Linear(8, 2)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    loader = torch.utils.data.DataLoader(
        torch.utils.data.TensorDataset(torch.randn(32, 8), torch.randint(0, 2, (32,))), batch_size=8)
    try:
        hooks, optimizer, loader = PrivacyEngine().make_private(
            module=model, optimizer=optimizer, data_loader=loader, noise_multiplier=0.0, max_grad_norm=1.0,
            poisson_sampling=False, wrap_model=False)
    except TypeError as exc:
        return "unsupported: " + _crash(exc)[len("crash: "):]
    x, y = next(iter(loader))
    try:
        nn.functional.cross_entropy(hooks(x), y).backward()
        optimizer.step()
    except Exception as exc:
        return _crash(exc)
    return "ok"


def wrap_model_false_keyword() -> str:
    """`make_private(..., wrap_model=False)` itself, its result left alone, the original module trained."""
    import torch
    import torch.nn as nn
    from opacus import PrivacyEngine

    torch.manual_seed(0)
    model = nn.Linear(8, 2)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    loader = torch.utils.data.DataLoader(
        torch.utils.data.TensorDataset(torch.randn(32, 8), torch.randint(0, 2, (32,))), batch_size=8)
    try:
        _, optimizer, loader = PrivacyEngine().make_private(
            module=model, optimizer=optimizer, data_loader=loader, noise_multiplier=0.0, max_grad_norm=1.0,
            poisson_sampling=False, wrap_model=False)
        x, y = next(iter(loader))
        nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()
    except Exception as exc:
        return _crash(exc)
    return "ok"


PROBES = {
    "dpmha-batch-first-engine-1-head": lambda: dpmha_batch_first_under_batch_first_engine(1),
    "dpmha-batch-first-engine-2-heads": lambda: dpmha_batch_first_under_batch_first_engine(2),
    "dpmha-batch-first-forward-2-heads": lambda: dpmha_batch_first_forward(2),
    "dpmha-batch-first-forward-1-head": lambda: dpmha_batch_first_forward(1),
    "inplace-after-trainable-layer": inplace_relu_after_trainable_layer,
    "lr-scheduler-on-dp-optimizer": lr_scheduler_on_dp_optimizer,
    "lr-scheduler-after-load-state-dict": lambda: lr_scheduler_on_dp_optimizer(resumed=True),
    "ghost-clipping-with-batch-memory-manager": ghost_clipping_with_batch_memory_manager,
    "opacus-0x-attach-api": opacus_0x_attach_api,
    "module-validator-fix": module_validator_fix,
    "wrap-model-false-result-as-model": wrap_model_false_result_as_model,
    "wrap-model-false-keyword": wrap_model_false_keyword,
}


def measure(names=None) -> dict:
    import opacus
    import torch

    results = {}
    for name, probe in PROBES.items():
        if names and name not in names:
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                results[name] = probe()
            except Exception as exc:  # a probe that cannot even set up
                results[name] = f"probe failed: {_crash(exc)[7:]}"
    return {"opacus": opacus.__version__, "torch": torch.__version__, "results": results}


if __name__ == "__main__":
    print(json.dumps(measure(sys.argv[1:]), indent=2))

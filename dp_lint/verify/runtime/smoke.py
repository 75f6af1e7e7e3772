"""Per-sample-gradient smoke test: run a model under real Opacus and check its gradients.

The check mirrors what `PrivacyEngine.make_private` does at training time:

1. build the model with a fixed seed and keep an unwrapped deep copy as the reference;
2. run `ModuleValidator.validate(model, strict=True)`, as `make_private` does before wrapping
   (it refuses BatchNorm, InstanceNorm tracking running stats, nn.LSTM/nn.GRU and
   nn.MultiheadAttention that own trainable parameters, and a model not in training mode);
3. wrap the model in `opacus.GradSampleModule` (hooks mode) in training mode and run one
   batched forward, loss and backward;
4. compare every trainable parameter's `grad_sample` with the gradients obtained by running
   each sample *alone* (a batch of one, sliced at the batch dimension) through the copy; a model
   that draws random numbers in forward (a VAE's `randn_like`), or cannot take a batch of one,
   gets instead each sample's loss through the batched forward with the same random draws, once
   a check found that no sample's output moves when the others change (else "silent");
5. compare every `opacus.layers.DPMultiheadAttention` with an `nn.MultiheadAttention` holding
   the same weights, on the inputs that layer received in the batched forward (dropout 0).
   Opacus <= 1.6.0 computes a wrong output with `batch_first=True` and more than one head;
   its per-sample gradients are exact gradients *of that wrong function*, so step 4 cannot
   see it;
6. record every `nn.GroupNorm` call whose groups each hold a single value (`GroupNorm(C, C)`
   on `[B, C]` features: what `ModuleValidator.fix` makes of `BatchNorm1d(C)` when C divides
   32): each value is normalised alone, so the layer outputs its bias whatever its input and
   the layers before it get no gradient. Exact per-sample gradients of a dead network are
   zero on both sides, so step 4 cannot see it either ("constant-output");
7. run one `DPOptimizer.step()`, which raises when a parameter has no per-sample gradient.

An exception in steps 2, 3 or 6 gives the verdict "crash"; per-sample gradients that are
missing, have the wrong batch dimension or the wrong values, or an attention output that
differs from torch's, without any exception give "silent". The check runs with two batch
sizes and the worse verdict wins. When the batch that crashed under Opacus also fails in the
unwrapped copy, or a single sample does, the model itself is broken: `ModelError`, no verdict.

torch and opacus are imported lazily: this module is imported only by the tests and by the
`verify` command, never when `dp_lint` itself is imported.

Models must keep no state across calls (no dropout, no buffer updated in forward): the reference
could not match otherwise (the child switches dropout off). `check_batch` also tells a model made
for one batch size (it fails without Opacus on a smaller batch) from a broken one: a "crash" under
Poisson sampling, which draws batches of varying size, and otherwise checked on the whole batch.
A trainable parameter left without `grad_sample` is reported "missing"; the optimizer step then
raises, so such a run is a "crash" (it would be "silent" only if the step did not complain). Per-sample gradients are *not* compared through their sum
with the batch gradient: gradients of samples mixed together still add up correctly.
"""

from __future__ import annotations

import copy
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from dp_lint.verify.specs import DTYPES, InputSpec, parse_input_spec

__all__ = [
    "InputSpec",
    "ParameterResult",
    "Verdict",
    "parse_input_spec",
    "make_inputs",
    "pick_batch_sizes",
    "default_loss",
    "check_model",
    "ModelError",
]

VERDICTS = ("ok", "silent", "crash")  # from best to worst
PARAMETER_STATUSES = ("ok", "missing", "wrong-batch-dim", "mismatch", "frozen", "forward-mismatch", "constant-output",
                      "unchecked", "not-stepped")
# Statuses that are not a problem: "frozen" parameters have no per-sample gradient to check,
# "unchecked" attention layers could not be rebuilt as an nn.MultiheadAttention, "not-stepped"
# parameters are trainable but outside the optimizer the script gave the engine (a linear probe).
_FINE = ("ok", "frozen", "unchecked", "not-stepped")

ATOL = 1e-5
RTOL = 1e-4

def _random_tensor(spec: InputSpec, batch_size: int, generator: Any) -> Any:
    """A random tensor of `spec` with `batch_size` at the batch dimension."""
    import torch

    shape = spec.shape(batch_size)
    dtype = getattr(torch, DTYPES[spec.dtype])
    if dtype.is_floating_point:
        return torch.randn(shape, generator=generator, dtype=dtype)
    assert spec.high is not None, "parse_input_spec gives every integer input an upper bound"
    return torch.randint(0, spec.high, shape, generator=generator, dtype=dtype)


def _as_specs(specs: Sequence[str | InputSpec]) -> list[InputSpec]:
    return [s if isinstance(s, InputSpec) else parse_input_spec(s) for s in specs]


def make_inputs(specs: Sequence[str | InputSpec], batch_size: int, seed: int = 0) -> list:
    """One random tensor per spec, reproducible from `seed`."""
    import torch

    generator = torch.Generator().manual_seed(seed)
    return [_random_tensor(spec, batch_size, generator) for spec in _as_specs(specs)]


def pick_batch_sizes(specs: Sequence[str | InputSpec], preferred: Sequence[int] = (5, 3)) -> tuple[int, ...]:
    """`preferred`, with any size equal to a fixed dimension of the specs replaced.

    A batch size equal to a sequence length or a feature size could hide a swapped batch
    dimension, so every chosen size differs from every other dimension in the specs.
    """
    taken = {d for spec in _as_specs(specs) for d in spec.fixed_dims}
    candidates = [5, 3, 7, 6, 4, 9, 11, 13, 17, 19, 23, 29, 31, 37]
    chosen: list[int] = []
    for size in preferred:
        if size in taken or size in chosen:
            size = next(c for c in candidates if c not in taken and c not in chosen)
        chosen.append(size)
    return tuple(chosen)


# --------------------------------------------------------------------------- batches


class Batch:
    """The arguments of one forward() call and where their batch dimension is.

    `call(model)` runs the model on the whole batch, `sample(i)` is the batch of sample `i`
    alone (for the one-sample-at-a-time reference), `to(device)` moves every tensor.
    """

    def __init__(self, args: Sequence[Any], kwargs: dict[str, Any], size: int, batch_dim: int | Sequence[int]):
        self.args = list(args)
        self.kwargs = dict(kwargs)
        self.size = size
        # One dimension for every tensor (captured batches), or one per positional argument (specs).
        self.batch_dim = batch_dim

    @classmethod
    def from_specs(cls, specs: Sequence[str | InputSpec], batch_size: int, seed: int = 0) -> Batch:
        parsed = _as_specs(specs)
        return cls(make_inputs(parsed, batch_size, seed=seed), {}, batch_size, [s.batch_dim for s in parsed])

    def call(self, model: Any) -> Any:
        return model(*self.args, **self.kwargs)

    def sample(self, index: int) -> Batch:
        return self._narrow(index, 1)

    def take(self, size: int) -> Batch:
        """The first `size` samples (a smaller batch of the same data)."""
        return self._narrow(0, size)

    def resized(self, size: int) -> Batch:
        """The first `size` samples, the batch repeated first when it holds fewer."""
        if size <= self.size:
            return self.take(size)
        import torch

        repeats = -(-size // self.size)
        return self._map_batch(lambda t, dim: torch.cat([t] * repeats, dim=dim).narrow(dim, 0, size), size)

    def to(self, device: str) -> Batch:
        return Batch(map_tensors(self.args, lambda t, _: t.to(device)),
                     map_tensors(self.kwargs, lambda t, _: t.to(device)), self.size, self.batch_dim)

    def shapes(self) -> list[str]:
        """`float32[5, 16]` for every tensor argument, in order (for reports)."""
        found: list[str] = []

        def note(tensor: Any, _position: int) -> Any:
            found.append(f"{str(tensor.dtype).replace('torch.', '')}[{', '.join(str(d) for d in tensor.shape)}]")
            return tensor

        map_tensors([self.args, self.kwargs], note)
        return found

    def filled_with(self, index: int) -> Batch:
        """The batch with every sample replaced by a copy of sample `index` (same size and shapes)."""
        return self._map_batch(lambda t, dim: t.narrow(dim, index, 1).expand_as(t).clone(), self.size)

    def _narrow(self, start: int, length: int) -> Batch:
        return self._map_batch(lambda t, dim: t.narrow(dim, start, length), length)

    def _map_batch(self, function: Callable[[Any, int], Any], size: int) -> Batch:
        """A batch of `size` samples: `function(tensor, batch_dim)` applied to every tensor carrying the batch."""
        if isinstance(self.batch_dim, int):
            apply = on_batch_tensors(function, self.size, self.batch_dim)
            return Batch(map_tensors(self.args, apply), map_tensors(self.kwargs, apply), size, self.batch_dim)
        dims = list(self.batch_dim)
        return Batch([function(x, dims[i]) for i, x in enumerate(self.args)], self.kwargs, size, dims)


def on_batch_tensors(function: Callable[[Any, int], Any], size: int, dim: int) -> Callable[[Any, int], Any]:
    """A `map_tensors` function applying `function(tensor, dim)` to the tensors that carry a batch
    of `size` at `dim`; labels of another size, masks shared by the batch and scalars pass as they are."""

    def apply(tensor: Any, _position: int) -> Any:
        if tensor.dim() > dim and tensor.shape[dim] == size:
            return function(tensor, dim)
        return tensor

    return apply


def map_tensors(value: Any, function: Callable[[Any, int], Any], position: int = 0) -> Any:
    """`value` with `function(tensor, position)` applied to every tensor inside lists, tuples and dicts."""
    import torch

    if isinstance(value, torch.Tensor):
        return function(value, position)
    if isinstance(value, tuple) and hasattr(value, "_fields"):  # a NamedTuple
        return type(value)(*(map_tensors(v, function, i) for i, v in enumerate(value)))
    if isinstance(value, (list, tuple)):
        return type(value)(map_tensors(v, function, i) for i, v in enumerate(value))
    if isinstance(value, dict):
        return {k: map_tensors(v, function, i) for i, (k, v) in enumerate(value.items())}
    return value


# --------------------------------------------------------------------------- results


@dataclass
class ParameterResult:
    """One trainable parameter's per-sample gradient, or one attention layer's forward output.

    Attention entries are named `<layer> forward (vs nn.MultiheadAttention)`; their shape is
    the output's and their status "ok", "forward-mismatch" or "unchecked" (see `note`). A
    GroupNorm whose groups hold one value each is named by its layer (`head.1`), with the
    input's shape and the status "constant-output" (`note` has the measured numbers).
    """

    name: str
    shape: tuple[int, ...]
    status: str  # one of PARAMETER_STATUSES
    max_abs_error: float | None = None  # only when both gradients (or outputs) could be compared
    note: str | None = None


@dataclass
class Verdict:
    verdict: str  # "ok" | "crash" | "silent"
    error: str | None = None  # "ExceptionType: message" for crashes
    parameters: list[ParameterResult] = field(default_factory=list)
    batch_size: int | None = None  # the run this verdict comes from
    # How the reference per-sample gradients were taken: "alone" (each sample as a batch of one)
    # or "batched" (each sample's loss through the batched forward, with the same random draws
    # as the Opacus pass, after checking that no sample's output depends on the others).
    reference: str = "alone"

    def problems(self) -> list[ParameterResult]:
        return [p for p in self.parameters if p.status not in _FINE]

    @property
    def max_error(self) -> float | None:
        """The largest absolute difference over every compared gradient and attention output."""
        errors = [p.max_abs_error for p in self.parameters if p.max_abs_error is not None]
        return max(errors) if errors else None

    def summary(self) -> str:
        lines = [f"{self.verdict} (batch size {self.batch_size})"]
        if self.error:
            lines.append(f"  error: {self.error}")
        for p in self.problems():
            err = "" if p.max_abs_error is None else f", max abs error {p.max_abs_error:.3g}"
            note = f" ({p.note})" if p.note else ""
            lines.append(f"  {p.name} {list(p.shape)}: {p.status}{err}{note}")
        return "\n".join(lines)


class ModelError(RuntimeError):
    """The model fails without Opacus too: a bug in the model, not an Opacus problem."""


class BatchFailsWithoutOpacus(ModelError):
    """The batch of `size` samples fails in the unwrapped model: a model that runs only on some
    batch sizes (`check_batch` tells a fixed-batch-size model from a broken one)."""

    def __init__(self, message: str, size: int):
        super().__init__(message)
        self.size = size


# --------------------------------------------------------------------------- the check


def tensors_of(output) -> list:
    import torch

    if isinstance(output, torch.Tensor):
        return [output]
    if isinstance(output, dict):
        output = list(output.values())
    if isinstance(output, (tuple, list)):
        return [t for item in output for t in tensors_of(item)]
    return []


LOSSES = ("sum-of-squares", "sum", "output")


def default_loss(output, batch_size: int, loss_reduction: str = "mean", kind: str = "sum-of-squares"):
    """The loss used when `check_model` gets none (or the name of one of `LOSSES`).

    A scalar output is the model's own loss and is used as it is (it must be reduced over the
    batch the way `loss_reduction` says); so is any output with `kind="output"`. Otherwise: the
    sum of squares (`kind="sum"`: the sum) of every floating tensor in the output (tuples,
    lists and dicts are searched), i.e. a sum over samples, divided by the batch size for
    `loss_reduction="mean"`.
    """
    import torch

    if kind == "output" or (isinstance(output, torch.Tensor) and output.dim() == 0):
        return output
    tensors = [t for t in tensors_of(output) if t.is_floating_point()]
    if not tensors:
        raise ModelError("the model's output holds no floating-point tensor to build a loss from")
    total = sum((t.sum() if kind == "sum" else t.pow(2).sum()) for t in tensors)
    return total / batch_size if loss_reduction == "mean" else total


def _error_text(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


GRAD_SAMPLE_MODES = ("hooks", "functorch", "ew")


def _wrap(model, grad_sample_mode: str, batch_first: bool, loss_reduction: str):
    """The GradSampleModule `make_private(grad_sample_mode=...)` would build."""
    from opacus import GradSampleModule

    if grad_sample_mode in ("hooks", "functorch"):
        return GradSampleModule(
            model, batch_first=batch_first, loss_reduction=loss_reduction,
            force_functorch=grad_sample_mode == "functorch",
        )
    if grad_sample_mode == "ew":
        from opacus.grad_sample import GradSampleModuleExpandedWeights

        return GradSampleModuleExpandedWeights(model, batch_first=batch_first, loss_reduction=loss_reduction)
    raise ValueError(f"grad_sample_mode {grad_sample_mode!r} is not checked (use one of {', '.join(GRAD_SAMPLE_MODES)})")


def _run_once(factory, make_batch, batch_size, *, batch_first, loss_reduction, loss, seed, device, validate,
              grad_sample_mode="hooks", reference_kind="auto", stepped=None) -> Verdict:
    import torch
    from opacus.optimizers import DPOptimizer

    def batch_loss(output, n):
        if loss is None or isinstance(loss, str):
            return default_loss(output, n, loss_reduction, loss or "sum-of-squares")
        return loss(output)

    torch.manual_seed(seed)
    model = factory().to(device)
    reference = copy.deepcopy(model)
    inputs = make_batch(batch_size).to(device)
    named = list(model.named_parameters())  # names without GradSampleModule's "_module." prefix

    # make_private validates the module before wrapping it.
    if validate:
        from opacus.validators import ModuleValidator

        try:
            ModuleValidator.validate(model, strict=True)
        except Exception as exc:
            return Verdict("crash", _error_text(exc), [], batch_size)

    # The batched pass under Opacus, recording what each DPMultiheadAttention receives and
    # which GroupNorm normalises single values.
    attention_calls, handles = _record_attention_calls(model)
    collapsed, norm_handles = _record_collapsed_norms(model)
    handles += norm_handles
    try:
        with warnings.catch_warnings():
            # "Full backward hook is firing when ... no inputs require gradients": expected here.
            warnings.filterwarnings("ignore", message="Full backward hook", category=UserWarning)
            wrapped = _wrap(model, grad_sample_mode, batch_first, loss_reduction)
            wrapped.train()
            torch.manual_seed(seed)  # the random draws of the batched reference (see below)
            batch_loss(inputs.call(wrapped), batch_size).backward()
    except ModelError:
        raise
    except Exception as exc:
        _fails_without_opacus(reference, inputs, lambda out: batch_loss(out, batch_size), batch_size)
        return Verdict("crash", _error_text(exc), [], batch_size)
    finally:
        for handle in handles:
            handle.remove()

    # The reference gradients, from the unwrapped copy. Each sample alone is the definition of
    # a per-sample gradient, but a model that draws random numbers in forward (a VAE's
    # `randn_like`) draws other numbers for a batch of one, and a model that runs only on
    # batches of its own size cannot take one: then each sample's loss goes through the batched
    # forward with the Opacus pass's random draws, once no sample's output depends on the others.
    reference.train()
    out_dim = 0 if batch_first else 1
    trainable = [p for _, p in reference.named_parameters() if p.requires_grad]
    kind = reference_kind
    if kind == "auto":
        kind = "batched" if _draws_random(reference, inputs, seed) else "alone"
    mixing: str | None = None
    alone_failed: ModelError | None = None
    if kind == "alone":
        try:
            gradients = _gradients_alone(reference, inputs, trainable, batch_loss)
        except ModelError as failure:
            alone_failed = failure
            kind = "batched"
    if kind == "batched":
        batched_output = _forward(reference, inputs, seed)
        if not _batch_carried(batched_output, batch_size, out_dim):
            if alone_failed is not None:
                raise alone_failed
            raise ModelError("the model draws random numbers in forward and its output has tensors without the "
                             "batch dimension: no sample's loss can be taken from the batched forward")
        mixing = _mixes_samples(reference, inputs, batched_output, seed, batch_size, out_dim)
        gradients = _gradients_batched(reference, inputs, trainable, batch_loss, seed, batch_size, out_dim)

    expected = iter(gradients)
    results = []
    held = None if stepped is None else set(stepped)
    for name, p in named:
        if not p.requires_grad:
            results.append(ParameterResult(name, tuple(p.shape), "frozen"))
            continue
        reference_gradient = next(expected)
        if held is not None and name not in held:
            results.append(ParameterResult(name, tuple(p.shape), "not-stepped"))
            continue
        results.append(_compare(name, p, reference_gradient, batch_size))

    # Each DPMultiheadAttention against torch's own attention, on the same inputs.
    layers = dict(reference.named_modules())
    for name, calls in attention_calls.items():
        results.extend(_compare_attention(name, layers[name], calls))
    results.extend(collapsed.values())

    # One optimizer step, as make_private's DPOptimizer would take it.
    try:
        optimizer = DPOptimizer(
            torch.optim.SGD([p for name, p in named if held is None or name in held], lr=0.01),
            noise_multiplier=0.0,
            max_grad_norm=1e6,
            expected_batch_size=batch_size,
            loss_reduction=loss_reduction,
        )
        optimizer.step()
    except Exception as exc:
        return Verdict("crash", _error_text(exc), results, batch_size)

    bad = mixing is not None or any(r.status not in _FINE for r in results)
    return Verdict("silent" if bad else "ok", mixing, results, batch_size, reference=kind)


def _forward(model, inputs, seed):
    import torch

    torch.manual_seed(seed)
    with torch.no_grad():
        return inputs.call(model)


def _draws_random(reference, inputs, seed) -> bool:
    """Whether two forwards of the same batch under two seeds give different outputs."""
    import torch

    try:
        first = tensors_of(_forward(reference, inputs, seed))
        second = tensors_of(_forward(reference, inputs, seed + 1))
    except Exception:
        return False  # the reference passes below say how the model fails
    return any(a.shape != b.shape or not torch.equal(a, b) for a, b in zip(first, second))


def _batch_carried(output, size: int, dim: int) -> bool:
    """Whether every floating tensor of the output has the batch at `dim` (so one sample's part
    of it can be taken)."""
    floats = [t for t in tensors_of(output) if t.is_floating_point()]
    return bool(floats) and all(t.dim() > dim and t.shape[dim] == size for t in floats)


def _sample_of(output, index: int, size: int, dim: int):
    return map_tensors(output, on_batch_tensors(lambda t, d: t.narrow(d, index, 1), size, dim))


def _per_sample_gradients(trainable, size: int, loss_of_sample) -> list:
    """One stacked gradient per trainable parameter, from `loss_of_sample(i)` for every sample."""
    import torch

    per_sample: list[list] = [[] for _ in trainable]
    for i in range(size):
        try:
            grads = torch.autograd.grad(loss_of_sample(i), trainable, allow_unused=True)
        except Exception as exc:
            raise ModelError(f"the model fails without Opacus: {_error_text(exc)}") from exc
        for slot, g, p in zip(per_sample, grads, trainable):
            slot.append(torch.zeros_like(p) if g is None else g.detach())
    return [torch.stack(slot) for slot in per_sample]


def _gradients_alone(reference, inputs, trainable, batch_loss) -> list:
    """Every sample alone (a batch of one) through the unwrapped copy."""
    return _per_sample_gradients(trainable, inputs.size, lambda i: batch_loss(inputs.sample(i).call(reference), 1))


def _gradients_batched(reference, inputs, trainable, batch_loss, seed, size: int, dim: int) -> list:
    """Sample i's loss alone, taken from the batched forward under the Opacus pass's seed."""
    import torch

    def loss_of_sample(i: int):
        torch.manual_seed(seed)
        return batch_loss(_sample_of(inputs.call(reference), i, size, dim), 1)

    return _per_sample_gradients(trainable, size, loss_of_sample)


def _mixes_samples(reference, inputs, batched_output, seed, size: int, dim: int) -> str | None:
    """Whether the first or the last sample's output changes when every other sample of the
    batch is replaced by a copy of it, with the same random draws (`batched_output` is the
    forward of `inputs` under `seed`): the message when it does."""
    import torch

    for index in dict.fromkeys((0, size - 1)):
        alone = _sample_of(batched_output, index, size, dim)
        among_copies = _sample_of(_forward(reference, inputs.filled_with(index), seed), index, size, dim)
        for a, b in zip(tensors_of(alone), tensors_of(among_copies)):
            if a.is_floating_point() and not torch.allclose(a, b, atol=ATOL, rtol=RTOL):
                return (f"sample {index}'s output changes when the other samples of the batch change "
                        f"(by up to {(a - b).abs().max().item():.3g}): its gradient depends on other samples")
    return None


# --------------------------------------------------------------------------- attention forward check


def _detached(value):
    import torch

    if isinstance(value, torch.Tensor):
        return value.detach().clone()
    if isinstance(value, (tuple, list)):
        return type(value)(_detached(v) for v in value)
    if isinstance(value, dict):
        return {k: _detached(v) for k, v in value.items()}
    return value


def _record_attention_calls(model):
    """Forward hooks that record the (bound) arguments of every DPMultiheadAttention call.

    Returns ({layer name: [arguments by parameter name, ...]}, hook handles).
    """
    import inspect

    from opacus.layers import DPMultiheadAttention

    calls: dict[str, list[dict]] = {}
    handles = []
    for name, module in model.named_modules():
        if not isinstance(module, DPMultiheadAttention):
            continue
        signature = inspect.signature(module.forward)

        def hook(mod, args, kwargs, output, name=name, signature=signature):
            bound = signature.bind(*args, **kwargs)
            calls.setdefault(name, []).append(_detached(dict(bound.arguments)))

        handles.append(module.register_forward_hook(hook, with_kwargs=True))
    return calls, handles


def _record_collapsed_norms(model):
    """Forward hooks on every `nn.GroupNorm` that record the calls where each group holds one
    value (`GroupNorm(C, C)` on `[B, C]`): ({layer name: ParameterResult "constant-output"},
    hook handles). The note has the measured largest |output - bias| and the input's std."""
    import torch
    from torch import nn

    found: dict[str, ParameterResult] = {}
    handles = []
    for name, module in model.named_modules():
        if not isinstance(module, nn.GroupNorm):
            continue

        def hook(mod, args, output, name=name):
            x = args[0] if args else None
            if name in found or not isinstance(x, torch.Tensor) or x.dim() < 2 or x.shape[0] == 0:
                return
            if x[0].numel() // mod.num_groups != 1:
                return
            with torch.no_grad():
                centred = output.detach()
                if mod.bias is not None:
                    centred = centred - mod.bias.detach().reshape(1, -1, *([1] * (x.dim() - 2)))
                deviation = centred.abs().max().item()
                spread = x.detach().float().std().item() if x.numel() > 1 else 0.0
            found[name] = ParameterResult(
                name, tuple(x.shape), "constant-output",
                note=(f"GroupNorm({mod.num_groups}, {mod.num_channels}) on input {list(x.shape)}: each group holds "
                      f"one value, so the output is the bias whatever the input (largest |output - bias| "
                      f"{deviation:.2g}, input std {spread:.2g}); the layers before it get no gradient"),
            )

        handles.append(module.register_forward_hook(hook))
    return found, handles


def _torch_twin(layer):
    """An nn.MultiheadAttention with the configuration and the weights of a DPMultiheadAttention."""
    import torch
    from torch import nn

    bias = layer.qlinear.bias is not None
    twin = nn.MultiheadAttention(
        layer.embed_dim,
        layer.num_heads,
        dropout=0.0,
        bias=bias,
        add_bias_kv=layer.add_bias_kv,
        add_zero_attn=layer.add_zero_attn,
        kdim=layer.kdim,
        vdim=layer.vdim,
        batch_first=layer.batch_first,
    ).to(layer.qlinear.weight.device)
    with torch.no_grad():
        q, k, v = layer.qlinear, layer.klinear, layer.vlinear
        if twin._qkv_same_embed_dim:
            twin.in_proj_weight.copy_(torch.cat([q.weight, k.weight, v.weight]))
        else:
            twin.q_proj_weight.copy_(q.weight)
            twin.k_proj_weight.copy_(k.weight)
            twin.v_proj_weight.copy_(v.weight)
        if bias:
            twin.in_proj_bias.copy_(torch.cat([q.bias, k.bias, v.bias]))
            twin.out_proj.bias.copy_(layer.out_proj.bias)
        twin.out_proj.weight.copy_(layer.out_proj.weight)
        if layer.add_bias_kv:
            assert twin.bias_k is not None and twin.bias_v is not None, "add_bias_kv=True creates both"
            twin.bias_k.copy_(layer.seq_bias_k.bias.view_as(twin.bias_k))
            twin.bias_v.copy_(layer.seq_bias_v.bias.view_as(twin.bias_v))
    return twin


def _compare_attention(name, layer, calls) -> list[ParameterResult]:
    """Run `layer` (a DPMultiheadAttention of the unwrapped copy) and its torch twin on each
    recorded call, in training mode with dropout 0 (torch's fast path is never taken in
    training mode), and compare their outputs."""
    import torch
    from torch import nn

    label = f"{name} forward (vs nn.MultiheadAttention)"
    try:
        twin = _torch_twin(layer)
    except Exception as exc:
        return [ParameterResult(label, (), "unchecked", note=f"no torch twin: {_error_text(exc)}")]
    dp = copy.deepcopy(layer)
    dp.dropout = nn.Dropout(0.0)
    dp.train()
    twin.train()
    results = []
    for arguments in calls:
        try:
            with torch.no_grad():
                got = tensors_of(dp(**arguments))
                want = tensors_of(twin(**arguments))
        except Exception as exc:
            results.append(ParameterResult(label, (), "unchecked", note=_error_text(exc)))
            continue
        shape = tuple(want[0].shape) if want else ()
        if [tuple(t.shape) for t in got] != [tuple(t.shape) for t in want]:
            results.append(ParameterResult(label, shape, "forward-mismatch", note="output shapes differ"))
            continue
        error = max((g - w).abs().max().item() for g, w in zip(got, want))
        tolerance = ATOL + RTOL * max(w.abs().max().item() for w in want)
        status = "ok" if error <= tolerance else "forward-mismatch"
        results.append(ParameterResult(label, shape, status, error))
    return results


def _fails_without_opacus(reference, inputs, batch_loss, size: int) -> None:
    """Raise BatchFailsWithoutOpacus when the same batch fails in the unwrapped copy too: then
    the crash under Opacus is the model's own, not an Opacus verdict."""
    try:
        batch_loss(inputs.call(copy.deepcopy(reference).train())).backward()
    except Exception as exc:
        raise BatchFailsWithoutOpacus(f"the model fails without Opacus: {_error_text(exc)}", size) from exc


def _compare(name, p, expected, batch_size) -> ParameterResult:
    import torch

    shape = tuple(p.shape)
    got = getattr(p, "grad_sample", None)
    if isinstance(got, list):  # accumulated over several backward passes
        got = torch.cat(got, dim=0)
    if got is None:
        return ParameterResult(name, shape, "missing")
    if tuple(got.shape) != (batch_size, *shape):
        return ParameterResult(name, shape, "wrong-batch-dim")
    error = (got.detach() - expected).abs().max().item()
    tolerance = ATOL + RTOL * expected.abs().max().item()
    return ParameterResult(name, shape, "ok" if error <= tolerance else "mismatch", error)


def check_model(
    factory: Callable[[], Any],
    input_specs: Sequence[str | InputSpec],
    *,
    batch_first: bool = True,
    loss_reduction: str = "mean",
    loss: Callable[[Any], Any] | None = None,
    batch_sizes: Sequence[int] | None = None,
    seed: int = 0,
    device: str = "cpu",
    validate: bool = True,
    grad_sample_mode: str = "hooks",
) -> Verdict:
    """Run `factory()`'s model under Opacus and compare its per-sample gradients.

    `input_specs` holds one spec per forward() argument (see `parse_input_spec`).
    `loss(output)` must return the scalar batch loss, reduced over the batch the way
    `loss_reduction` says; by default (or given one of the names in `LOSSES`) `default_loss`
    is used. `batch_sizes` defaults to
    (5, 3), moved off any fixed dimension of the specs. The worst verdict over the batch
    sizes is returned ("crash" > "silent" > "ok"; the first one on ties).

    `validate=False` skips `ModuleValidator.validate` (a bare `GradSampleModule` does not run it;
    `make_private` does). `grad_sample_mode` is make_private's: "hooks" (default), "functorch"
    or "ew" (ExpandedWeights); ghost clipping keeps no per-sample gradients to compare.

    Raises `ModelError` when the model fails without Opacus (on the batch that crashed under
    Opacus, or one sample at a time).
    """
    if grad_sample_mode not in GRAD_SAMPLE_MODES:
        raise ValueError(f"grad_sample_mode {grad_sample_mode!r} is not checked (use one of {', '.join(GRAD_SAMPLE_MODES)})")
    specs = _as_specs(input_specs)
    sizes = tuple(batch_sizes) if batch_sizes else pick_batch_sizes(specs)
    worst: Verdict | None = None
    for size in sizes:
        verdict = _run_once(
            factory, lambda n: Batch.from_specs(specs, n, seed=seed + n), size,
            batch_first=batch_first, loss_reduction=loss_reduction, loss=loss, seed=seed, device=device,
            validate=validate, grad_sample_mode=grad_sample_mode,
        )
        if worst is None or VERDICTS.index(verdict.verdict) > VERDICTS.index(worst.verdict):
            worst = verdict
    assert worst is not None, "there is always at least one batch size"
    return worst


def check_batch(
    factory: Callable[[], Any],
    batch: Batch,
    *,
    batch_first: bool = True,
    loss_reduction: str = "mean",
    loss: Callable[[Any], Any] | str | None = None,
    batch_sizes: Sequence[int] | None = None,
    seed: int = 0,
    device: str = "cpu",
    validate: bool = True,
    grad_sample_mode: str = "hooks",
    varying_batches: bool = False,
    nominal_batch_size: int | None = None,
    stepped: Sequence[str] | None = None,
) -> Verdict:
    """`check_model` on real data: `batch` (e.g. the first batch a training script fed its
    private model) instead of random inputs from specs. Smaller batches are its first samples.

    A model that fails without Opacus on a smaller batch but runs on the whole one is built for
    batches of that size: with `varying_batches` (the engine samples batches of varying size,
    Poisson sampling) that is a "crash" of training; otherwise it is checked on the whole batch.
    Under Poisson sampling the script's own batch may be of another size than the loader's
    `nominal_batch_size`: a model that fails on it but runs on a batch of the nominal size is
    a crash too.

    `stepped` names the parameters the script's optimizer holds when it holds only some of the
    trainable ones: the others are reported "not-stepped" and left out of the optimizer step."""
    if grad_sample_mode not in GRAD_SAMPLE_MODES:
        raise ValueError(f"grad_sample_mode {grad_sample_mode!r} is not checked (use one of {', '.join(GRAD_SAMPLE_MODES)})")
    sizes = tuple(batch_sizes) if batch_sizes else captured_batch_sizes(batch.size)

    def run(size: int, reference_kind: str = "auto", make_batch=batch.take) -> Verdict:
        return _run_once(
            factory, make_batch, size,
            batch_first=batch_first, loss_reduction=loss_reduction, loss=loss, seed=seed, device=device,
            validate=validate, grad_sample_mode=grad_sample_mode, reference_kind=reference_kind, stepped=stepped,
        )

    worst: Verdict | None = None
    for size in sizes:
        try:
            verdict = run(size)
        except BatchFailsWithoutOpacus as fails:
            # The sizes the model may be made for: the script's batch, the loader's batch size.
            candidates = [n for n in dict.fromkeys((batch.size, nominal_batch_size or batch.size)) if n != fails.size]
            whole = None
            for n in candidates:
                try:
                    whole = run(n, "batched", batch.resized)
                    break
                except ModelError:
                    continue
            if whole is None:
                raise
            if not varying_batches:
                return whole
            cause = str(fails).removeprefix("the model fails without Opacus: ")
            return Verdict("crash", f"a batch of {fails.size} samples fails even without Opacus, and Poisson sampling "
                                    f"draws batches of varying size (it runs on {n}): {cause}", [], fails.size)
        if worst is None or VERDICTS.index(verdict.verdict) > VERDICTS.index(worst.verdict):
            worst = verdict
    assert worst is not None
    return worst


def captured_batch_sizes(available: int) -> tuple[int, ...]:
    """Two batch sizes (5 and 3 when the data has that many samples), never more than it has."""
    sizes = [s for s in (5, 3) if s <= available] or [available]
    if len(sizes) == 1 and available > 1 and sizes[0] != available - 1:
        sizes.append(max(1, sizes[0] - 1))
    return tuple(dict.fromkeys(sizes))

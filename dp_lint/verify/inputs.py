"""Inferring `forward()`'s inputs from the source, without importing or running anything.

For each positional parameter of `forward` without a default, dp-lint follows the parameter
through `forward` to the first layer that consumes it, and reads that layer's constructor
arguments (through constructor parameters, their defaults and the engine call's literals):

    def forward(self, tokens, lengths=None):       # `lengths` has a default: left out
        h = self.drop(self.embed(tokens))            # first consumer of `tokens`: nn.Embedding(1000, 16)
                                                     # -> "long[B, 7] < 1000"

What counts as the same tensor on the way: plain names, shape-preserving functions and
methods (`F.relu(x)`, `x.float()`, `x * 2`), parameter-free shape-preserving layers
(`self.dropout(x)`), loops over a `ModuleList` (`for block in self.blocks: h = block(h)`) and
indexing one (`self.layers[0](x)`). A `Sequential` gives its first element; a project module
class is followed into its own `forward`. A reshape (`x.view(...)`, `torch.cat`, slicing) before
the first layer stops the inference: the layer's input shape no longer tells the argument's.

Shapes: `Linear` -> `float[B, in_features]` (`float[B, 7, in_features]` in a model with
sequence layers), `Conv{1,2,3}d` -> `float[B, C, 16(, 16(, 16))]`, `Embedding` ->
`long[B, 7] < num_embeddings`, recurrent layers, attention and transformer layers ->
`float[B, 7, size]`; sequence axes are placed by the engine's `batch_first` (`[7, B, ...]`
when it is False), which is the layout of the data the engine is told about — unless forward()
swaps dimensions 0 and 1 on the way (`x.transpose(0, 1)`, `x.permute(1, 0, 2)`): then the first
layer's own `batch_first` says what it is fed, and the argument is that layout swapped back.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TypeGuard

import libcst as cst

from dp_lint.analysis import knowledge as tk
from dp_lint.analysis.constants import ConstantEvaluator, constructor_setting, literal, python_literal
from dp_lint.analysis.forward_walk import (
    ForwardWalker,
    bind_arguments,
    is_bound_method,
    project_function,
    self_method,
)
from dp_lint.analysis.index import ClassInfo, FunctionInfo, ModuleInfo
from dp_lint.analysis.layers import BATCH_FIRST_LAYERS, Instance, ModuleArgument
from dp_lint.analysis.models import ModuleKind
from dp_lint.analysis.values import UNKNOWN
from dp_lint.files.syntax import assignments_in, bind_call, dotted_name, is_self, is_self_attribute, walk_statements

SEQ_LEN = 7  # sequence length of inferred sequence inputs
SPATIAL = 16  # spatial size of inferred image/volume inputs

# Layers whose input is a sequence: their presence makes a first Linear/LayerNorm take [B, 7, n].
SEQUENCE_LAYERS = frozenset(
    {
        "LSTM", "GRU", "RNN", "DPLSTM", "DPGRU", "DPRNN",
        "MultiheadAttention", "DPMultiheadAttention",
        "TransformerEncoderLayer", "TransformerDecoderLayer", "TransformerEncoder",
        "TransformerDecoder", "Transformer",
    }
)
_RECURRENT = frozenset({"LSTM", "GRU", "RNN", "DPLSTM", "DPGRU", "DPRNN"})
_CELLS = frozenset({"LSTMCell", "GRUCell", "RNNCell", "DPLSTMCell", "DPGRUCell", "DPRNNCell"})
_CONVS = {
    "Conv1d": 1, "Conv2d": 2, "Conv3d": 3,
    "ConvTranspose1d": 1, "ConvTranspose2d": 2, "ConvTranspose3d": 3,
}
_CHANNEL_NORMS = {
    "BatchNorm1d": 0, "BatchNorm2d": 2, "BatchNorm3d": 3, "SyncBatchNorm": 0,
    "InstanceNorm1d": 1, "InstanceNorm2d": 2, "InstanceNorm3d": 3,
}
# Parameter-free layers that keep the shape of their input.
_PRESERVING_LAYERS = frozenset(
    {
        "Identity", "Dropout", "Dropout1d", "Dropout2d", "Dropout3d", "AlphaDropout",
        "FeatureAlphaDropout", "ReLU", "ReLU6", "LeakyReLU", "ELU", "SELU", "CELU", "GELU", "SiLU",
        "Mish", "Sigmoid", "Tanh", "Softmax", "LogSoftmax", "Softmin", "Softplus", "Softsign",
        "Hardtanh", "Hardswish", "Hardsigmoid", "Hardshrink", "Softshrink", "Tanhshrink",
        "Threshold", "LogSigmoid",
    }
)
# Functions (last part of the qualified name) and tensor methods that keep the shape.
_PRESERVING_FUNCTIONS = frozenset(
    {
        "relu", "relu6", "gelu", "silu", "elu", "selu", "celu", "leaky_relu", "mish", "tanh",
        "sigmoid", "softplus", "softsign", "hardtanh", "hardswish", "hardsigmoid", "logsigmoid",
        "dropout", "dropout1d", "dropout2d", "dropout3d", "alpha_dropout", "feature_alpha_dropout",
        "normalize", "softmax", "log_softmax", "abs", "neg", "exp", "log", "sqrt", "clamp", "clip",
        "sin", "cos", "square", "contiguous", "clone", "detach", "float", "double", "half",
        "bfloat16", "to", "cuda", "cpu", "type_as", "requires_grad_", "relu_", "sigmoid_", "tanh_",
        "masked_fill", "long", "int",
    }
)
# Losses whose second argument is a class index per sample: `long[B] < number of classes`.
_CLASS_LOSSES = frozenset({"cross_entropy", "nll_loss", "CrossEntropyLoss", "NLLLoss"})
# Reading a tensor's metadata is no data flow.
_READERS = frozenset(
    {
        "size", "dim", "ndim", "numel", "nelement", "shape", "device", "dtype", "is_cuda",
        "len", "isinstance", "print", "type", "id", "repr", "str", "getattr", "hasattr",
        "data_ptr", "element_size", "stride", "is_contiguous", "get_device",
        # new tensors shaped like the argument: no data flows from it
        "zeros_like", "ones_like", "empty_like", "full_like", "rand_like", "randn_like", "randint_like",
        "new_zeros", "new_ones", "new_empty", "new_full", "new_tensor",
    }
)


class InferenceError(Exception):
    """The input of one forward() argument could not be inferred; the message says why."""


@dataclass
class _Ctx:
    """Where constructor expressions are evaluated: a class's `__init__` (through the
    LayerTree instance) or a module-level factory function with its parameters bound."""

    instance: Instance | None
    owner: ClassInfo | None
    module: ModuleInfo | None
    bindings: dict | None = None  # factory parameters -> values; None: the class scope
    locals: dict = field(default_factory=dict)  # name -> expression (single assignments)


@dataclass
class _Consumer:
    attr: str  # the submodule attribute
    element: int | None  # index into a container (`self.layers[0]`, loops over a ModuleList)
    position: int | None  # positional index of the argument, or None for a keyword
    keyword: str | None
    labels: int | None = None  # the argument is a class index below this (a loss's target)
    rank: int = 0  # at least this many dimensions (`x[:, :4]` before a Linear: [B, T, n])
    # The argument reaches the layer with its first two dimensions swapped (`x.transpose(0, 1)`,
    # `x.permute(1, 0, 2)`): the argument's spec is the layer's with them swapped back.
    swapped: bool = False


@dataclass
class InferredInputs:
    """The result for one model: a spec per required forward() argument, or a reason."""

    names: list[str]
    specs: list[str | None]  # None where inference failed
    reasons: list[str | None]  # why, where it failed
    notes: list[str] = field(default_factory=list)
    problem: str | None = None  # forward() itself cannot be read

    @property
    def complete(self) -> bool:
        return self.problem is None and all(s is not None for s in self.specs)

    def failure(self) -> str:
        if self.problem is not None:
            return self.problem
        return "; ".join(f"`{n}`: {r}" for n, r in zip(self.names, self.reasons) if r)


class InputInference:
    """Infers the inputs of one root model (see the module docstring)."""

    def __init__(self, project, root: Instance, batch_first: bool):
        self.project = project
        self.tree = project.layer_tree
        self.models = project.modules
        self.index = project.index
        self.root = root
        self.batch_first = batch_first
        self.notes: list[str] = []
        self._sequence: bool | None = None

    # -- entry point ---------------------------------------------------------------

    def infer(self) -> InferredInputs:
        try:
            names = self._forward_params(self.root)
        except InferenceError as exc:
            return InferredInputs([], [], [], self.notes, problem=str(exc))
        result = InferredInputs(list(names), [], [], self.notes)
        for name in names:
            try:
                result.specs.append(self._param_spec(self.root, name, depth=0))
                result.reasons.append(None)
            except InferenceError as exc:
                result.specs.append(None)
                result.reasons.append(str(exc))
            except RecursionError:
                result.specs.append(None)
                result.reasons.append("the model is nested too deeply to follow")
        return result

    # -- forward() ---------------------------------------------------------------

    def _forward(self, instance: Instance) -> tuple[ClassInfo, FunctionInfo]:
        found = self.index.find_method(instance.cls, "forward")
        if found is None:
            raise InferenceError(f"`{instance.cls.name}` has no forward() in the checked files")
        return found

    def _forward_params(self, instance: Instance) -> list[str]:
        """Positional parameters of forward() without a default (self excluded)."""
        _, function = self._forward(instance)
        params = function.node.params
        positional = [*params.posonly_params, *params.params][1:]  # drop self
        required = [p for p in positional if p.default is None]
        if not required and isinstance(params.star_arg, cst.Param):
            raise InferenceError(
                f"`{instance.cls.name}.forward(*{params.star_arg.name.value})` does not say how many inputs it takes"
            )
        return [p.name.value for p in required]

    def _param_spec(self, instance: Instance, name: str, depth: int, rank: int = 0) -> str:
        if depth > 12:
            raise InferenceError("the model is nested too deeply to follow")
        _, function = self._forward(instance)
        scan = _FirstUse(self, instance, function, name)
        scan.rank = rank
        consumer = scan.find()
        spec = self._consumer_spec(instance, consumer, depth, name)
        if consumer.swapped:
            spec = _swap_leading(spec)
            self.notes.append(f"`{instance.cls.name}.forward()` swaps the first two dimensions of `{name}` "
                              "before its first layer: the input is laid out the other way")
        return spec

    def _param_by_position(self, instance: Instance, consumer: _Consumer, depth: int) -> str:
        """The spec of the child's forward() parameter that receives the argument."""
        _, function = self._forward(instance)
        params = function.node.params
        positional = [*params.posonly_params, *params.params][1:]
        if consumer.keyword is not None:
            names = [p.name.value for p in positional + list(params.kwonly_params)]
            if consumer.keyword not in names:
                raise InferenceError(f"`{instance.cls.name}.forward()` has no parameter `{consumer.keyword}`")
            return self._param_spec(instance, consumer.keyword, depth, consumer.rank)
        if consumer.position is None or consumer.position >= len(positional):
            raise InferenceError(f"`{instance.cls.name}.forward()` takes its input through *args")
        return self._param_spec(instance, positional[consumer.position].name.value, depth, consumer.rank)

    # -- the consuming submodule ---------------------------------------------------------

    def submodule_kind(self, instance: Instance, attr: str):
        model = self.models.model(instance.cls)
        sub = model.submodules.get(attr)
        seen = set()
        while sub is not None and sub.alias_of is not None and sub.alias_of not in seen:
            seen.add(sub.alias_of)
            sub = model.submodules.get(sub.alias_of)
        return sub

    def method(self, instance: Instance, name: str) -> FunctionInfo | None:
        found = self_method(self.index, instance.cls, name)
        return found[1] if found is not None else None

    def is_preserving(self, instance: Instance, attr: str, element: int | None) -> bool:
        sub = self.submodule_kind(instance, attr)
        if sub is None:
            return False
        kind = _element(sub.kind, element) if element is not None else sub.kind
        return kind is not None and kind.torch_class in _PRESERVING_LAYERS

    def _consumer_spec(self, instance: Instance, consumer: _Consumer, depth: int, name: str) -> str:
        if consumer.labels is not None:
            return _spec("long", ["B"], consumer.labels)
        sub = self.submodule_kind(instance, consumer.attr)
        if sub is None:
            raise InferenceError(f"`self.{consumer.attr}` is not a submodule dp-lint can read")
        ctx = self._submodule_ctx(instance, sub)
        kind = sub.kind
        label = f"self.{consumer.attr}"
        if consumer.element is not None:
            element = _element(kind, consumer.element)
            if element is None:
                raise InferenceError(f"dp-lint cannot see the elements of `{label}` ({kind.description})")
            kind, label = element, f"{label}[{consumer.element}]"
        return self._kind_spec(kind, ctx, consumer, depth, label)

    def _kind_spec(self, kind: ModuleKind, ctx: _Ctx, consumer: _Consumer, depth: int, label: str) -> str:
        if depth > 12:
            raise InferenceError("the model is nested too deeply to follow")
        if kind.param is not None:
            handed = None
            if ctx.instance is not None and ctx.owner is not None:
                handed = ctx.instance.scopes.get(ctx.owner, {}).get(kind.param)
            if isinstance(handed, ModuleArgument):
                owner = handed.owner
                module = handed.kind.module
                inner = _Ctx(handed.instance, owner, module, None, _init_locals(owner))
                return self._kind_spec(handed.kind, inner, consumer, depth + 1, label)
            raise InferenceError(f"`{label}` is the constructor argument `{kind.param}`, built outside the model")
        if kind.torch_class is not None:
            name = kind.torch_class
            if name == "Sequential" or name in tk.CLONING_CONTAINERS:
                # The first element, past parameter-free layers that keep the shape (Dropout, ReLU).
                index = next((i for i, e in enumerate(kind.elements) if e.torch_class not in _PRESERVING_LAYERS), None)
                if index is None:
                    raise InferenceError(f"dp-lint cannot see the first layer of `{label}` ({kind.description})")
                first = _Consumer(consumer.attr, None, 0, None, rank=consumer.rank)
                return self._kind_spec(kind.elements[index], ctx, first, depth + 1, f"{label}[{index}]")
            return self._layer_spec(kind, ctx, consumer, label)
        if kind.project_class is not None:
            child = self._child_instance(kind, ctx, depth)
            return self._param_by_position(child, consumer, depth + 1)
        raise InferenceError(f"`{label}` is {kind.description}, whose input dp-lint cannot read")

    def _child_instance(self, kind: ModuleKind, ctx: _Ctx, depth: int) -> Instance:
        cls = kind.project_class
        assert cls is not None, "called for project classes only"
        if ctx.bindings is None and ctx.instance is not None:
            return self.tree.instantiate(cls, kind.call, kind.module, ctx.instance, ctx.owner,
                                         f"{ctx.instance.path}.{cls.name}", depth + 1)
        # Built inside a factory function: bind its arguments as evaluated there.
        call = _literal_call(cls.name, kind.call, lambda expr: self.evaluate(expr, ctx)) if kind.call is not None else None
        return self.tree.root(cls, call, cls.module)

    def _submodule_ctx(self, instance: Instance, sub) -> _Ctx:
        """The scope a submodule's constructor expressions are written in."""
        owner = sub.owner
        class_ctx = _Ctx(instance, owner, owner.module, None, _init_locals(owner))
        value = getattr(sub.statement, "value", None)
        while isinstance(value, cst.Call) and isinstance(value.func, cst.Attribute) and value.func.attr.value in {
            "to", "cuda", "cpu", "float", "double", "half", "train", "eval", "requires_grad_"
        }:
            value = value.func.value
        if not isinstance(value, cst.Call) or dotted_name(value.func) is None:
            return class_ctx
        qualname = owner.module.resolve_expr(value.func)
        function = self.index.lookup_function(qualname) if qualname else None
        if function is None:
            return class_ctx
        return _Ctx(None, None, function.module, _bind(function, value, lambda e: self.evaluate(e, class_ctx)),
                    _function_locals(function))

    # -- layer shapes ------------------------------------------------------------------

    def _layer_spec(self, kind: ModuleKind, ctx: _Ctx, consumer: _Consumer, label: str) -> str:
        name = kind.torch_class
        where = f"`{label}` ({kind.description})"

        def size(keyword: str, position: int, fallback=None) -> int:
            value = self.setting(kind, ctx, keyword, position)
            if value is _MISSING and fallback is not None:
                return fallback()
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                shown = _code_of_setting(kind, keyword, position)
                raise InferenceError(
                    f"the first layer {where} takes `{keyword}` = {shown}, which dp-lint cannot evaluate"
                )
            return value

        def sequence(n: int) -> str:
            batch_first = self.batch_first
            if consumer.swapped:
                # forward() transposes the argument before this layer: the layer's own layout is
                # the evidence for what it is fed (the argument's is the swapped one).
                layer_value = self._layer_batch_first(kind, ctx)
                batch_first = layer_value if isinstance(layer_value, bool) else batch_first
            else:
                self._layout_note(kind, ctx, label)
            dims = ["B", SEQ_LEN, n] if batch_first else [SEQ_LEN, "B", n]
            return _spec("float", dims)

        if name in ("Linear", "LayerNorm", "RMSNorm"):
            n = size("in_features" if name == "Linear" else "normalized_shape", 0)
            if consumer.rank > 3:
                return _spec("float", ["B"] + [SEQ_LEN] * (consumer.rank - 2) + [n])
            if self.sequence_model() or consumer.rank == 3:
                dims = ["B", SEQ_LEN, n] if self.batch_first else [SEQ_LEN, "B", n]
                return _spec("float", dims)
            return _spec("float", ["B", n])
        if name == "Bilinear":
            which = 1 if consumer.position == 1 or consumer.keyword == "input2" else 0
            return _spec("float", ["B", size(f"in{which + 1}_features", which)])
        if name in _CONVS:
            channels = size("in_channels", 0)
            return _spec("float", ["B", channels] + [SPATIAL] * _CONVS[name])
        if name in ("Embedding", "EmbeddingBag"):
            n = size("num_embeddings", 0)
            if name == "EmbeddingBag" or self.batch_first:
                return _spec("long", ["B", SEQ_LEN], n)
            return _spec("long", [SEQ_LEN, "B"], n)
        if name in _RECURRENT:
            return sequence(size("input_size", 0))
        if name in _CELLS:
            return _spec("float", ["B", size("input_size", 0)])
        if name in ("MultiheadAttention", "DPMultiheadAttention"):
            embed = lambda: size("embed_dim", 0)  # noqa: E731
            if consumer.position == 1 or consumer.keyword == "key":
                return sequence(size("kdim", 6, embed))
            if consumer.position == 2 or consumer.keyword == "value":
                return sequence(size("vdim", 7, embed))
            return sequence(embed())
        if name in ("TransformerEncoderLayer", "TransformerDecoderLayer", "Transformer"):
            return sequence(size("d_model", 0))
        if name in _CHANNEL_NORMS:
            channels = size("num_features", 0)
            return _spec("float", ["B", channels] + [SPATIAL] * _CHANNEL_NORMS[name])
        if name == "GroupNorm":
            return _spec("float", ["B", size("num_channels", 1), SPATIAL, SPATIAL])
        raise InferenceError(f"the first layer {where} does not tell the shape of its input")

    def _layer_batch_first(self, kind: ModuleKind, ctx: _Ctx) -> object:
        """The layer's own `batch_first` (torch's default False when not written), or None for a
        layer without one; UNKNOWN-like values pass through."""
        position = BATCH_FIRST_LAYERS.get(kind.torch_class or "")
        if position is None:
            return None
        value = self.setting(kind, ctx, "batch_first", position)
        return False if value is _MISSING else value

    def _layout_note(self, kind: ModuleKind, ctx: _Ctx, label: str) -> None:
        layer_value = self._layer_batch_first(kind, ctx)
        if isinstance(layer_value, bool) and layer_value != self.batch_first:
            self.notes.append(
                f"the inputs are laid out for the engine's batch_first={self.batch_first}; "
                f"`{label}` ({kind.description}) has batch_first={layer_value}"
            )

    def classes(self, instance: Instance, expr, assigned: dict, depth: int = 0) -> int:
        """The size of the last dimension of `expr`, a model output (the logits of a loss)."""
        if depth > 8:
            raise InferenceError("the logits come from too deep to follow")
        if isinstance(expr, cst.Name) and expr.value in assigned:
            return self.classes(instance, assigned[expr.value], assigned, depth + 1)
        if isinstance(expr, cst.Attribute) and expr.attr.value == "data":
            return self.classes(instance, expr.value, assigned, depth + 1)
        if isinstance(expr, cst.BinaryOperation):
            for side in (expr.left, expr.right):
                try:
                    return self.classes(instance, side, assigned, depth + 1)
                except InferenceError:
                    continue
        if isinstance(expr, cst.Call):
            func = expr.func
            if is_self_attribute(func):
                sub = self.submodule_kind(instance, func.attr.value)
                if sub is not None:
                    return self._output_size(sub.kind, self._submodule_ctx(instance, sub), f"self.{func.attr.value}", depth)
            positional = [a for a in expr.args if a.keyword is None and not a.star]
            if positional:  # F.log_softmax(logits, dim=1), logits.float()...
                return self.classes(instance, positional[0].value, assigned, depth + 1)
            if isinstance(func, cst.Attribute):
                return self.classes(instance, func.value, assigned, depth + 1)
        raise InferenceError("dp-lint cannot tell the number of classes of the loss")

    def _output_size(self, kind: ModuleKind, ctx: _Ctx, label: str, depth: int) -> int:
        if depth > 8:
            raise InferenceError("the logits come from too deep to follow")
        name = kind.torch_class
        if name == "Linear":
            value = self.setting(kind, ctx, "out_features", 1)
            if isinstance(value, int) and not isinstance(value, bool) and value > 0:
                return value
        elif name == "Sequential":
            for element in reversed(kind.elements):
                if element.torch_class in _PRESERVING_LAYERS:
                    continue
                return self._output_size(element, ctx, f"{label}[-1]", depth + 1)
        elif kind.project_class is not None:
            child = self._child_instance(kind, ctx, depth)
            _, function = self._forward(child)
            returns = [r for r in _returns_of(function)]
            if len(returns) == 1:
                return self.classes(child, returns[0], _function_locals(function), depth + 1)
        raise InferenceError(f"dp-lint cannot tell the output size of `{label}`")

    def sequence_model(self) -> bool:
        """Does the model hold a sequence layer (so that a first Linear sees [B, T, n])?"""
        if self._sequence is None:
            try:
                self._sequence = any(use.name in SEQUENCE_LAYERS for use in self.tree.layers(self.root))
            except (Exception, RecursionError):
                self._sequence = False
        return self._sequence

    # -- evaluating constructor arguments -----------------------------------------------

    def setting(self, kind: ModuleKind, ctx: _Ctx, keyword: str, position: int | None) -> object:
        return constructor_setting(kind.call, keyword, position, lambda expr: self.evaluate(expr, ctx), _MISSING)

    def evaluate(self, expr: cst.BaseExpression | None, ctx: _Ctx, depth: int = 0) -> object:
        """A literal value of `expr` in `ctx` (arithmetic on literals included), or UNKNOWN."""
        return self.evaluator(ctx).evaluate(expr, depth)

    def evaluator(self, ctx: _Ctx) -> ConstantEvaluator:
        """How constructor expressions are read in `ctx`: a factory's bound parameters, or the
        class's `__init__` scope (`self.<x>` as `__init__` wrote it; `not` as the layer tree
        reads it); single local assignments; arithmetic on numbers; lists and tuples."""
        instance, owner = ctx.instance, ctx.owner
        class_scope = ctx.bindings is None and instance is not None and owner is not None
        scope = instance.scopes.get(owner, {}) if class_scope and instance is not None and owner is not None else {}

        def names(name: str, depth: int) -> object:
            if ctx.bindings is not None and name in ctx.bindings:
                return ctx.bindings[name]
            if class_scope and name in scope:
                return scope[name]
            if name in ctx.locals:
                return self.evaluate(ctx.locals[name], ctx, depth + 1)
            return UNKNOWN

        def attribute(name: str, depth: int) -> object:
            assert instance is not None, "class scope only"
            found = self.models.model(instance.cls).attribute_values.get(name)
            if found is None:
                return UNKNOWN
            value_expr, writer = found
            inner = _Ctx(instance, writer, writer.module, None, _init_locals(writer))
            return self.evaluate(value_expr, inner, depth + 1)

        def layer_tree_view(expr: cst.BaseExpression) -> object:
            assert instance is not None and owner is not None, "class scope only"
            return self.tree.evaluate(expr, instance, owner)

        return ConstantEvaluator(
            ctx.module,
            names=names,
            self_attribute=attribute if class_scope else None,
            arithmetic=True,
            sequences=True,
            otherwise=layer_tree_view if class_scope else None,
            max_depth=12,
        )


def element_is_method(scan: _FirstUse, target: tuple[str, int | None]) -> bool:
    attr, element = target
    if element is not None:
        return False
    if scan.inference.submodule_kind(scan.instance, attr) is not None:
        return False
    return scan.inference.method(scan.instance, attr) is not None


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


_MISSING = _Missing()  # the argument is not written: the layer's default applies


class _Found(Exception):
    """Raised from the walk when the first consumer is found: the walk stops there."""

    def __init__(self, consumer: _Consumer):
        super().__init__(consumer)
        self.consumer = consumer


class _FirstUse(ForwardWalker[None]):
    """Walks forward() in source order for the first submodule call that consumes `param`.

    One path through the code: branches and loop bodies are walked once each, in source
    order, on the same names (no state of its own: `fork` is the identity); the first
    consumer ends the walk."""

    max_depth = 9  # helper functions are followed at most this many levels below forward()

    def __init__(self, inference: InputInference, instance: Instance, function: FunctionInfo, param: str,
                 modules: dict[str, str] | None = None, depth: int = 0):
        self.inference = inference
        self.instance = instance
        self.function = function
        self.module = function.module
        self.param = param
        self.aliases = {param}
        self.swapped_aliases: set[str] = set()  # aliases holding the argument with dims 0 and 1 swapped
        self.depth = depth
        self.assigned: dict[str, cst.BaseExpression] = {}  # name -> the last value assigned to it
        self.rank = 0  # slicing `x[:, :4]` shows at least 2 dimensions before the last one
        # Local names standing for a submodule: loop variables over `self.blocks` (element 0), the
        # parameters of a helper function that receives `self.encoder`.
        self.loops: dict[str, tuple[str, int | None]] = {name: (attr, None) for name, attr in (modules or {}).items()}

    def find(self) -> _Consumer:
        try:
            self.walk_function(self.function, None)
        except _Found as found:
            return found.consumer
        raise InferenceError(f"forward() never passes `{self.param}` to a layer dp-lint can follow")

    # -- statements (the walk is ForwardWalker's) ------------------------------------------

    def expression(self, expr: cst.BaseExpression, state: None) -> None:
        found = self._expr(expr)
        if found is not None:
            raise _Found(found)

    def loop_target(self, stmt: cst.For, iterated: object, state: None) -> None:
        attr = _iterated_attr(stmt.iter)
        target: cst.BaseExpression = stmt.target
        iterable = stmt.iter.args[0].value if _is_enumerate(stmt.iter) and stmt.iter.args else stmt.iter
        if isinstance(target, cst.Tuple) and _is_enumerate(stmt.iter) and len(target.elements) == 2:
            target = target.elements[1].value
        if attr is not None and isinstance(target, cst.Name):
            self.loops[target.value] = (attr, 0)
        elif isinstance(target, cst.Name):
            # `for crop in (x1, x2):` - the loop variable is the argument in one iteration.
            self._bind(target, self._iterates_over_argument(iterable))

    def assignment(self, targets: Sequence[cst.BaseExpression], value: cst.BaseExpression, state: None) -> None:
        self.expression(value, state)
        for target in targets:
            if isinstance(target, (cst.Tuple, cst.List)) and isinstance(value, (cst.Tuple, cst.List)) \
                    and len(target.elements) == len(value.elements):
                # `ctx, tgt = x[:, :4], x[:, 4:]`
                for t, v in zip(target.elements, value.elements):
                    self._bind(t.value, self.carries(v.value), self.swaps(v.value))
                    if isinstance(t.value, cst.Name):
                        self.assigned[t.value.value] = v.value
                continue
            self._bind(target, self.carries(value), self.swaps(value))
            if isinstance(target, cst.Name):
                self.assigned[target.value] = value

    def _bind(self, target: cst.BaseExpression, carries: bool, swapped: bool = False) -> None:
        if isinstance(target, cst.Name):
            self.swapped_aliases.discard(target.value)
            if carries:
                self.aliases.add(target.value)
                if swapped:
                    self.swapped_aliases.add(target.value)
            else:
                self.aliases.discard(target.value)
        elif isinstance(target, (cst.Tuple, cst.List)):
            for element in target.elements:
                self._bind(element.value, False)

    # -- expressions -------------------------------------------------------------------

    def _module_call(self, func) -> tuple[str, int | None] | None:
        """(attribute, element) when `func` is a submodule of the model."""
        if is_self_attribute(func):
            return func.attr.value, None
        if isinstance(func, cst.Subscript) and is_self_attribute(func.value) and len(func.slice) == 1:
            index = func.slice[0].slice
            if isinstance(index, cst.Index) and isinstance(index.value, cst.Integer):
                return func.value.attr.value, int(index.value.value)
        if isinstance(func, cst.Name) and func.value in self.loops:
            attr, element = self.loops[func.value]
            return attr, (0 if element is None and self._is_container(attr) else element)
        return None

    def _is_container(self, attr: str) -> bool:
        sub = self.inference.submodule_kind(self.instance, attr)
        return sub is not None and sub.kind.torch_class in ("ModuleList", "ModuleDict")

    def _iterates_over_argument(self, iterable) -> bool:
        return isinstance(iterable, (cst.Tuple, cst.List)) and any(
            not isinstance(e, cst.StarredElement) and self.carries(e.value) for e in iterable.elements
        )

    def _expr(self, expr) -> _Consumer | None:
        if expr is None:
            return None
        if isinstance(expr, cst.Call):
            func = expr.func
            if isinstance(func, cst.Attribute):
                found = self._expr(func.value)
                if found is not None:
                    return found
            for arg in expr.args:
                found = self._expr(arg.value)
                if found is not None:
                    return found
            return self._call(expr)
        if isinstance(expr, (cst.ListComp, cst.SetComp, cst.GeneratorExp)):
            return self._comprehension(expr)
        if isinstance(expr, (cst.Lambda, cst.DictComp)):
            return None
        for child in expr.children:
            found = self._expr_any(child)
            if found is not None:
                return found
        return None

    def _comprehension(self, expr) -> _Consumer | None:
        """`[self.student(crop) for crop in (x1, x2)]`: the element sees the argument."""
        clause = expr.for_in
        found = self._expr(clause.iter)
        if found is not None:
            return found
        target = clause.target
        if not isinstance(target, cst.Name) or clause.inner_for_in is not None:
            return None
        saved_aliases, saved_loops = set(self.aliases), dict(self.loops)
        attr = _iterated_attr(clause.iter)
        if attr is not None:
            self.loops[target.value] = (attr, 0)
        else:
            self._bind(target, self._iterates_over_argument(clause.iter))
        try:
            return self._expr(expr.elt)
        finally:
            self.aliases, self.loops = saved_aliases, saved_loops

    def _expr_any(self, node) -> _Consumer | None:
        if isinstance(node, cst.BaseExpression):
            return self._expr(node)
        for child in node.children:
            found = self._expr_any(child)
            if found is not None:
                return found
        return None

    def _call(self, call: cst.Call) -> _Consumer | None:
        func = call.func
        target = self._module_call(func)
        carrying = [(i, arg) for i, arg in enumerate(call.args) if not arg.star and self.carries(arg.value)]
        if target is not None and carrying and element_is_method(self, target):
            helper = self.inference.method(self.instance, target[0])
            assert helper is not None, "element_is_method found it"
            return self._follow(helper, call, carrying[0][1], method=True)
        if target is None and carrying:
            function = self._project_function(func)
            if function is not None:
                return self._follow(function, call, carrying[0][1], method=False)
        if carrying:
            labels = self._labels(call, target, carrying[0][1])
            if labels is not None:
                return labels
        if target is not None:
            attr, element = target
            if not carrying or self.inference.is_preserving(self.instance, attr, element):
                return None
            _, arg = carrying[0]
            swapped = self.swaps(arg.value)
            if arg.keyword is not None:
                return _Consumer(attr, element, None, arg.keyword.value, rank=self.rank, swapped=swapped)
            position = next(i for i, a in enumerate(a for a in call.args if a.keyword is None) if a is arg)
            return _Consumer(attr, element, position, None, rank=self.rank, swapped=swapped)
        if isinstance(func, cst.Attribute) and self.carries(func.value):
            method = func.attr.value
            if method in _PRESERVING_FUNCTIONS or method in _READERS or _swaps_leading(call):
                return None
            raise InferenceError(
                f"forward() calls `.{method}(...)` on `{self.param}` before its first layer, so that "
                "layer's input shape does not tell the argument's"
            )
        if carrying:
            last = self._function_name(func)
            if last in _PRESERVING_FUNCTIONS or last in _READERS or _swaps_leading(call):
                return None
            shown = dotted_name(func) or "a function"
            raise InferenceError(
                f"forward() passes `{self.param}` to `{shown}(...)` before its first layer, so that "
                "layer's input shape does not tell the argument's"
            )
        return None

    def _labels(self, call: cst.Call, target, arg: cst.Arg) -> _Consumer | None:
        """`F.cross_entropy(logits, labels)` / `self.criterion(logits, labels)`: class indices."""
        if target is not None:
            sub = self.inference.submodule_kind(self.instance, target[0]) if target[1] is None else None
            name = sub.kind.torch_class if sub is not None else None
        else:
            name = self._function_name(call.func)
        if name not in _CLASS_LOSSES:
            return None
        positional = [a for a in call.args if a.keyword is None and not a.star]
        is_target = (arg.keyword is not None and arg.keyword.value == "target") or (
            len(positional) > 1 and positional[1] is arg
        )
        if not is_target:
            return None
        logits = next((a.value for a in call.args if a.keyword is not None and a.keyword.value == "input"), None)
        if logits is None and positional:
            logits = positional[0].value
        classes = self.inference.classes(self.instance, logits, self.assigned)
        return _Consumer("", None, None, None, labels=classes)

    def _project_function(self, func: cst.BaseExpression) -> FunctionInfo | None:
        return project_function(self.module, func)

    def _follow(self, function: FunctionInfo, call: cst.Call, arg: cst.Arg, method: bool) -> _Consumer:
        """The first consumer of the argument inside a helper method or project function."""
        if self.too_deep(self.depth):
            raise InferenceError("forward() goes through too many helper functions to follow")
        # Which expression of the call each parameter receives (None: not passed visibly).
        passed = bind_arguments(function, call, evaluate=lambda expr: expr, default=lambda param: None,
                                bound_self=method and is_bound_method(function))
        name = next((pname for pname, expr in passed.items() if expr is arg.value), None)
        if name is None:
            raise InferenceError(f"`{function.name}()` takes `{self.param}` through *args or **kwargs")
        # Submodules handed to a helper function: `embed(self.backbone, self.head, x)`.
        modules = {}
        for pname, expr in passed.items():
            if isinstance(expr, cst.Attribute) and is_self(expr.value):
                modules[pname] = expr.attr.value
            elif isinstance(expr, cst.Name) and expr.value in self.loops:
                modules[pname] = self.loops[expr.value][0]
        return _FirstUse(self.inference, self.instance, function, name, modules, self.depth + 1).find()

    def _function_name(self, func) -> str:
        name = dotted_name(func)
        if name is None:
            return ""
        qualname = self.module.resolve(name)
        return qualname.rsplit(".", 1)[-1]

    def swaps(self, expr) -> bool:
        """Does `expr`, which carries the argument, hold it with dims 0 and 1 swapped (an odd number
        of `transpose(0, 1)`/`permute(1, 0, ...)` on the way)?"""
        if isinstance(expr, cst.Name):
            return expr.value in self.swapped_aliases
        if isinstance(expr, cst.Call):
            func = expr.func
            positional = [a for a in expr.args if a.keyword is None and not a.star]
            if isinstance(func, cst.Attribute) and self._module_call(func) is None and self.carries(func.value):
                inner = func.value
            elif positional:
                inner = positional[0].value
            else:
                return False
            return self.swaps(inner) != _swaps_leading(expr)
        if isinstance(expr, (cst.Attribute, cst.Subscript)):
            return self.swaps(expr.value)
        if isinstance(expr, cst.BinaryOperation):
            return self.swaps(expr.left) if self.carries(expr.left) else self.swaps(expr.right)
        if isinstance(expr, cst.UnaryOperation):
            return self.swaps(expr.expression)
        return False

    def carries(self, expr) -> bool:
        """Is `expr` the argument itself, up to shape-preserving operations?"""
        if isinstance(expr, cst.Name):
            return expr.value in self.aliases
        if isinstance(expr, cst.Call):
            func = expr.func
            target = self._module_call(func)
            positional = [a for a in expr.args if a.keyword is None and not a.star]
            if target is not None:
                return bool(positional) and self.carries(positional[0].value) and \
                    self.inference.is_preserving(self.instance, *target)
            if isinstance(func, cst.Attribute) and self.carries(func.value):
                return func.attr.value in _PRESERVING_FUNCTIONS or _swaps_leading(expr)
            if positional and self.carries(positional[0].value):
                return self._function_name(func) in _PRESERVING_FUNCTIONS or _swaps_leading(expr)
            return False
        if isinstance(expr, cst.Attribute):
            return expr.attr.value == "data" and self.carries(expr.value)
        if isinstance(expr, cst.Subscript):
            # `x[:, :4]`: slices keep every dimension (and the feature size at the end).
            if all(isinstance(e.slice, cst.Slice) for e in expr.slice) and self.carries(expr.value):
                self.rank = max(self.rank, len(expr.slice) + 1)
                return True
            return False
        if isinstance(expr, cst.BinaryOperation):
            if isinstance(expr.operator, cst.MatrixMultiply):
                return False
            return self.carries(expr.left) or self.carries(expr.right)
        if isinstance(expr, cst.UnaryOperation):
            return self.carries(expr.expression)
        return False


# --------------------------------------------------------------------------- helpers


def _element(kind: ModuleKind, index: int) -> ModuleKind | None:
    if not kind.elements:
        return None
    if kind.torch_class in tk.CLONING_CONTAINERS or len(kind.elements) == 1:
        return kind.elements[0]  # copies of one layer, or a comprehension's element
    return kind.elements[index] if index < len(kind.elements) else None


def _returns_of(function: FunctionInfo):
    body = function.node.body.body if isinstance(function.node.body, cst.IndentedBlock) else []
    for stmt in walk_statements(body):
        if isinstance(stmt, cst.SimpleStatementLine):
            for small in stmt.body:
                if isinstance(small, cst.Return) and small.value is not None:
                    yield small.value


_SWAPPING_METHODS = frozenset({"transpose", "permute", "swapaxes", "swapdims"})


def _swaps_leading(call: cst.Call) -> bool:
    """`x.transpose(0, 1)`, `x.permute(1, 0, 2)`, `torch.transpose(x, 1, 0)`, `x.swapaxes(0, 1)`:
    a call that exchanges dimensions 0 and 1 and keeps the others in place."""
    name = call.func.attr.value if isinstance(call.func, cst.Attribute) else None
    if name not in _SWAPPING_METHODS:
        return False
    values = [a.value for a in call.args if a.keyword is None and not a.star]
    if dotted_name(call.func) in ("torch.transpose", "torch.permute", "torch.swapaxes", "torch.swapdims"):
        values = values[1:]  # the tensor is the first argument
    if len(values) == 1 and isinstance(values[0], (cst.Tuple, cst.List)):
        values = [e.value for e in values[0].elements]
    if len(values) < 2 or not all(isinstance(v, cst.Integer) for v in values):
        return False
    numbers = [int(v.value) for v in values if isinstance(v, cst.Integer)]
    if name == "permute":
        return numbers[:2] == [1, 0] and numbers[2:] == list(range(2, len(numbers)))
    return sorted(numbers) == [0, 1]


def _swap_leading(spec: str) -> str:
    """`float[7, B, 16]` -> `float[B, 7, 16]` (the bound after `<`, if any, kept)."""
    head, _, rest = spec.partition("[")
    dims, _, tail = rest.partition("]")
    parts = [d.strip() for d in dims.split(",")]
    if len(parts) < 2:
        return spec
    parts[0], parts[1] = parts[1], parts[0]
    return f"{head}[{', '.join(parts)}]{tail}"


def _spec(dtype: str, dims: list, high: int | None = None) -> str:
    text = f"{dtype}[{', '.join(str(d) for d in dims)}]"
    return f"{text} < {high}" if high is not None else text


def _is_enumerate(expr: cst.BaseExpression) -> TypeGuard[cst.Call]:
    return isinstance(expr, cst.Call) and dotted_name(expr.func) == "enumerate"


def _iterated_attr(expr) -> str | None:
    """`self.blocks`, `enumerate(self.blocks)`, `self.blocks.children()` -> "blocks"."""
    if _is_enumerate(expr) and expr.args:
        expr = expr.args[0].value
    if isinstance(expr, cst.Call) and isinstance(expr.func, cst.Attribute) and expr.func.attr.value in {
        "children", "values"
    }:
        expr = expr.func.value
    return expr.attr.value if is_self_attribute(expr) else None


def _init_locals(owner: ClassInfo | None) -> dict:
    if owner is None:
        return {}
    init = owner.methods.get("__init__")
    return _function_locals(init) if init is not None else {}


def _function_locals(function: FunctionInfo) -> dict:
    """`name = expr` assignments of a function body assigned exactly once (a loop variable
    counts as assigned many times)."""
    body = function.node.body.body if isinstance(function.node.body, cst.IndentedBlock) else []
    found = assignments_in(body)
    loop_variables = {stmt.target.value for stmt in walk_statements(body)
                      if isinstance(stmt, cst.For) and isinstance(stmt.target, cst.Name)}
    return {name: values[0] for name, values in found.items() if len(values) == 1 and name not in loop_variables}


def _bind(function: FunctionInfo, call: cst.Call, evaluate) -> dict:
    """A factory's parameters bound to a call's arguments (defaults for the rest)."""
    def default(param):
        if param is None or param.default is None:
            return UNKNOWN
        return literal(param.default, function.module)

    return bind_call(function.node, call, evaluate, default)


def _literal_call(name: str, call: cst.Call, evaluate) -> cst.Call:
    """`Cls(<literal>, key=<literal>)` with every argument of `call` evaluated (`...` when unknown)."""
    parts = []
    for arg in call.args:
        if arg.star:
            parts.append("*()" if arg.star == "*" else "**{}")
            continue
        value = evaluate(arg.value)
        text = python_literal(value)
        parts.append(f"{arg.keyword.value}={text}" if arg.keyword is not None else text)
    rebuilt = cst.parse_expression(f"{name}({', '.join(parts)})")
    assert isinstance(rebuilt, cst.Call)
    return rebuilt


def _code_of_setting(kind: ModuleKind, keyword: str, position: int) -> str:
    call = kind.call
    if call is None:
        return "?"
    module = cst.Module(body=[])
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == keyword:
            return f"`{module.code_for_node(arg.value)}`"
    positional = [a for a in call.args if a.keyword is None]
    if len(positional) > position:
        return f"`{module.code_for_node(positional[position].value)}`"
    return "(not given)"

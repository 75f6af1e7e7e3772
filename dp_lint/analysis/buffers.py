"""Layers Opacus refuses because they own trainable parameters and hold buffers
(`trainable_layers_with_buffers`).

    class GPT(nn.Module):
        def __init__(self):
            super().__init__()
            self.pos_emb = nn.Parameter(torch.zeros(1, T, D))  # <- GPT owns a trainable parameter
            self.attn = CausalSelfAttention()                   # whose __init__ registers a buffer:
                                                                #    self.register_buffer("mask", ...)

`GradSampleModule` (every `grad_sample_mode` but ExpandedWeights) validates the model before
wrapping it: every module owning trainable parameters (`parameters(recurse=False)`) must hold no
buffer, its submodules' included (`module.buffers()` recurses). GPT above fails:
`NotImplementedError: Model contains a trainable layer with buffers that Opacus doesn't currently
support` (measured, opacus 1.4.1-1.6.0), at `make_private`.

An entry needs all of it certain: the class's parameter is built unconditionally (or under `if`s
known to hold for that instance), is not built with `requires_grad=False` and is frozen nowhere
(in the class, in the script, on any module holding it); the buffer is a tensor (a call, or a
local name assigned one) registered by `self.register_buffer` in the `__init__` of the class or
of a submodule built under known conditions. Buffers of torch's own layers (BatchNorm's running
statistics) are left to DPL101: `ModuleValidator` refuses those first.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import libcst as cst

from dp_lint.analysis import knowledge as tk
from dp_lint.analysis.engine_calls import EngineCall, GradSampleMode
from dp_lint.analysis.index import ClassInfo
from dp_lint.analysis.layer_state import held_frozen
from dp_lint.analysis.layers import Instance, LayerTree
from dp_lint.analysis.models import AttributeValue, BufferRegistration, ModuleModels
from dp_lint.files.syntax import argument, dotted_name

# The modes whose GradSampleModule validates buffers (measured, opacus 1.6.0); ExpandedWeights
# ("ew") does not, and fails elsewhere.
_VALIDATING_MODES = (GradSampleMode.HOOKS, GradSampleMode.FUNCTORCH, GradSampleMode.GHOST)


@dataclass(frozen=True)
class BufferedTrainableLayer:
    """A module class instance that owns a trainable parameter and holds a buffer."""

    cls: ClassInfo  # the class owning the parameter
    path: str  # the instance's path in the model: "GPT", "Net.encoder"
    parameter: str  # its first trainable parameter, in the order `__init__` writes them: "pos_emb"
    parameter_value: AttributeValue  # `nn.Parameter(...)` as assigned, and the class writing it
    buffer: str  # the buffer's path below the class: "attn.mask", or "mask" for its own
    registration: BufferRegistration  # the `self.register_buffer(...)` call
    # The engine wrapping the model; None when the project has no engine call or one whose model
    # dp-lint could not resolve (the model may be private).
    engine: EngineCall | None


def trainable_layers_with_buffers(project) -> list[BufferedTrainableLayer]:
    """Every class instance inside a model the project makes private (every root module class
    when it has no engine call, or one whose model is not resolved) that Opacus' validation refuses for owning a trainable
    parameter and holding a buffer; one entry per class and parameter."""
    tree: LayerTree = project.layer_tree
    found: dict[tuple[ClassInfo, str], BufferedTrainableLayer] = {}
    for model in project.private_models:
        engine = model.engine
        if engine is not None and not _validates_buffers(engine):
            continue
        if engine is not None and _model_frozen_by_script(project.modules, engine, model.instance.cls):
            continue
        for instance in _instances(tree, model.instance):
            layer = _buffered_layer(project, tree, instance, engine)
            if layer is not None:
                found.setdefault((layer.cls, layer.parameter), layer)
    return list(found.values())


def _validates_buffers(engine: EngineCall) -> bool:
    if engine.grad_sample_mode not in _VALIDATING_MODES:
        return False
    if engine.kind.makes_private:
        return True
    # `GradSampleModule(model, strict=False)` (a keyword-only parameter) only logs what it finds.
    strict = argument(engine.node, "strict")
    return strict is None or dotted_name(strict) == "True"


def _model_frozen_by_script(models: ModuleModels, engine: EngineCall, cls: ClassInfo) -> bool:
    """`model.requires_grad_(False)` (or a freeze loop) on the name given to the engine: its own
    parameters may not be trainable any more."""
    written = dotted_name(argument(engine.node, "module", 0)) if engine.kind.makes_private else \
        dotted_name(argument(engine.node, "m", 0))
    if written is None:
        return True  # an expression dp-lint does not follow: unknown
    return models.frozen_elsewhere(cls, written.rsplit(".", 1)[-1])


def _instances(tree: LayerTree, root: Instance) -> Iterator[Instance]:
    stack = [root]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(child for _, child in tree.children(current))


def _buffered_layer(project, tree: LayerTree, instance: Instance, engine: EngineCall | None) -> BufferedTrainableLayer | None:
    models: ModuleModels = project.modules
    model = models.model(instance.cls)
    if model.freezes_everything or model.unattributed_freeze or model.dynamic_attributes:
        return None
    binding = instance.bound_by.get(instance.cls)
    if held_frozen(project, binding.instance if binding is not None else None, instance.path):
        return None  # a module holding it is frozen
    for attr in [a for a in model.attribute_values if a in model.parameter_attrs]:  # in the order written
        value = model.attribute_values.get(attr)
        if (value is None or not _builds_parameter(value) or attr in model.frozen_attrs or attr in model.maybe_frozen or attr in model.parameters_in_loops
                or models.frozen_elsewhere(instance.cls, attr)
                or not tree.certainly_built(model.parameter_conditions.get(attr, ()), instance, value.writer)):
            continue
        held = _first_buffer(tree, instance, instance)
        if held is None:
            return None
        buffer, registration = held
        return BufferedTrainableLayer(instance.cls, instance.path, attr, value, buffer, registration, engine)
    return None


def _builds_parameter(value: AttributeValue) -> bool:
    """Is the attribute's last assignment still an `nn.Parameter(...)` (not replaced by `None`, a
    module or a tensor after it)?"""
    expr = value.expr
    if not isinstance(expr, cst.Call):
        return False
    qualname = value.writer.module.resolve_expr(expr.func)
    return bool(qualname) and tk.torch_class_name(qualname) == "Parameter"


def _first_buffer(tree: LayerTree, instance: Instance, holder: Instance, depth: int = 0
                  ) -> tuple[str, BufferRegistration] | None:
    """The first buffer `instance` certainly registers, its own or a submodule's (path relative
    to `holder`)."""
    if depth > 12:
        return None
    model = tree.models.model(instance.cls)
    prefix = instance.path[len(holder.path) + 1:] if instance is not holder else ""
    for registration in model.buffers:
        if (registration.certain and registration.name is not None
                and tree.certainly_built(registration.conditions, instance, registration.writer)):
            return (f"{prefix}.{registration.name}" if prefix else registration.name), registration
    for sub, child in tree.children(instance):
        # A frozen submodule's buffers count too: the validation reads `module.buffers()`.
        if not tree.certainly_built(sub.conditions, instance, sub.owner):
            continue
        found = _first_buffer(tree, child, holder, depth + 1)
        if found is not None:
            return found
    return None

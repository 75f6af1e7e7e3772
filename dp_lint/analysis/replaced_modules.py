"""A trainable submodule or parameter of the private model replaced after the optimizer holding it was built
(`replaced_after_optimizer`).

    model = Classifier()                                   # self.head = nn.Linear(512, 1000)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    model.head = nn.Linear(model.head.in_features, 10)     # the optimizer still holds the old head
    model, optimizer, loader = engine.make_private(module=model, optimizer=optimizer, ...)   # raises

`make_private` checks that every parameter the optimizer holds is a parameter of the module, and raises
`ValueError: Module parameters are different than optimizer Parameters` (measured, opacus 1.4.1-1.6.0, every
mode). After the engine call the same replacement makes the next step raise: the DP optimizer still steps the old
layer's parameters, which no longer get per-sample gradients (`Per sample gradient is not initialized` in hooks
and functorch modes, `'Parameter' object has no attribute '_norm_sample'` in ghost mode); a replaced
`nn.Parameter` raises `'Parameter' object has no attribute '_forward_counter'` (every mode). Replacing a
parameter-free submodule, wrapping the old layer (`nn.Sequential(nn.Dropout(0.1), model.head)`), converting the
model (`.double()`, `.half()`), `load_state_dict` and `reset_parameters()` keep the parameters, and train
(measured).

What is read:
- the optimizer: the last `<optimizer> = torch.optim.<Name>(...)` before the engine call (in a trainer, also in
  `__init__`), holding every trainable parameter of a model path: `<path>.parameters()` as the parameters (also
  through a local name, in a param group's `"params"`, or filtered by `p.requires_grad`); anything else (a
  list filtered by name, a project helper) is not read;
- the replacement: `<path>.<attr> = <call>` (also `<path>[<int>] = ...`, `setattr(<path>, "<attr>", ...)`) of a
  submodule that owns a trainable parameter and is not frozen (read from the project's classes), whose new value
  does not contain the old one, or `<path>.<layer>.<weight|bias> = nn.Parameter(...)` of a torch layer that owns
  it; written after the optimizer and before the engine call, or, on the model passed to the engine (or
  `<returned>._module`), after the call and before a later step of the DP optimizer; also one level into a
  project function the model is passed to (`replace_head(model, 10)`);
- the model's class: the engine's resolved model. Unknown classes, attributes and values produce nothing.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import libcst as cst

from dp_lint.analysis.index import ClassInfo, ModuleInfo, ProjectIndex
from dp_lint.analysis.models import ModuleKind, ModuleModels, Tri
from dp_lint.analysis.requires_grad import later_step, paths_overlap, requires_grad_changes, under_test
from dp_lint.analysis.training import TrainingSetup, assigns, single_assignment, statements_before_engine
from dp_lint.files.syntax import bind_call, calls_in, dotted_name

_PARAMETER_CLASSES = frozenset({"torch.nn.Parameter", "torch.nn.parameter.Parameter"})
# Torch layers and the parameters they own by default (a `bias=False` keyword removes `bias`).
_LAYER_PARAMETERS = {
    "Linear": ("weight", "bias"), "Bilinear": ("weight", "bias"),
    "Conv1d": ("weight", "bias"), "Conv2d": ("weight", "bias"), "Conv3d": ("weight", "bias"),
    "ConvTranspose1d": ("weight", "bias"), "ConvTranspose2d": ("weight", "bias"),
    "ConvTranspose3d": ("weight", "bias"),
    "Embedding": ("weight",), "EmbeddingBag": ("weight",),
    "LayerNorm": ("weight", "bias"), "GroupNorm": ("weight", "bias"),
}


@dataclass(frozen=True)
class ReplacedAfterOptimizer:
    """A replacement that makes the engine call (before it) or the next DP step (after it) raise."""

    statement: cst.CSTNode  # the assignment, or the call of the project function that makes it
    path: str  # what is replaced, as written at `statement`: "model.head", "model.fc.weight"
    parameter: bool  # an `nn.Parameter` replaced (else a submodule)
    old: str  # what it held, for messages: "nn.Linear", "Encoder"
    optimizer: str  # the optimizer's name where it is built: "optimizer", "self.optimizer"
    optimizer_statement: cst.CSTNode  # where it is built
    after_engine: bool
    conditional: bool  # under an `if`/`try`/loop: may not run
    helper: str | None = None  # the project function that makes the replacement, when not inline
    step: cst.Call | None = None  # after the engine: the DP optimizer step that follows


@dataclass(frozen=True)
class _Replacement:
    statement: cst.CSTNode
    relative: tuple[str, ...]  # below the model: ("head",), ("classifier", "6"), ("fc", "weight")
    path: str
    parameter: bool
    helper: str | None = None


def replaced_after_optimizer(setup: TrainingSetup, index: ProjectIndex,
                             models: ModuleModels) -> list[ReplacedAfterOptimizer]:
    engine = setup.engine
    if not engine.kind.makes_private or engine.wrapped is None:
        return []
    passed, optimizer = setup.argument_name("module"), setup.argument_name("optimizer")
    if passed is None or optimizer is None:
        return []
    parents = setup.module.file.parents
    found: list[ReplacedAfterOptimizer] = []
    sequence = statements_before_engine(setup, optimizer, passed)
    built = max((i for i, s in enumerate(sequence or []) if assigns(s, optimizer)), default=None)
    if sequence is None or built is None:
        return []
    construction = single_assignment(sequence[built], optimizer)
    held = held_paths(construction, setup) if construction is not None else None
    if not held:
        return []
    later = sequence[built + 1:]
    if any(assigns(s, passed) for s in later):
        return []  # the model is rebound on the way (`ModuleValidator.fix`: DPL207)
    # A script that changes `requires_grad` may have frozen the old layer (then a filtered optimizer does not
    # hold it): only a replacement that no change touches (a frozen backbone, a new head) is read.
    changes = list(requires_grad_changes(sequence, {passed}))
    for change in _replacements(later, passed, setup.module, index):
        if any(paths_overlap(c.relative, change.relative) for c in changes):
            continue
        old = _old_owner(change, engine.wrapped, models)
        if old is not None and _held(held, passed, change.relative):
            found.append(ReplacedAfterOptimizer(
                change.statement, change.path, change.parameter, old, optimizer, sequence[built], False,
                under_test(change.statement, None, parents), change.helper))
    # After the call: the object passed, or the returned wrapper's `_module`, before a DP step.
    returned_optimizer, returned = setup.returned("optimizer"), setup.returned("module")
    if returned_optimizer is None or setup.assigned_after(passed):
        return found
    if next(requires_grad_changes(setup.after, {passed, *([returned] if returned else [])}), None) is not None:
        return found  # frozen after the call: the DP optimizer skips what does not require grad
    roots = {passed: False, **({returned: True} if returned else {})}
    for change in _replacements(setup.after, roots, setup.module, index):
        old = _old_owner(change, engine.wrapped, models)
        step = later_step(change.statement, setup, returned_optimizer)
        if old is None or step is None or not _held(held, passed, change.relative):
            continue
        found.append(ReplacedAfterOptimizer(
            change.statement, change.path, change.parameter, old, optimizer, sequence[built], True,
            step[1] or under_test(change.statement, None, parents), change.helper, step[0]))
    return found


# -- what the optimizer holds --------------------------------------------------------------------

def held_paths(construction: cst.Call, setup: TrainingSetup) -> set[str] | None:
    """The model paths every trainable parameter of which `construction` holds (`{"model"}` for
    `SGD(model.parameters())`); None when it builds no `torch.optim` optimizer or holds anything
    dp-lint cannot read."""
    qualname = setup.module.resolve_expr(construction.func) if dotted_name(construction.func) else None
    if not qualname or not qualname.startswith("torch.optim.") or not construction.args:
        return None
    first = construction.args[0]
    if first.star or (first.keyword is not None and first.keyword.value != "params"):
        return None
    return _paths_in(first.value, setup, 0)


def _paths_in(expr: cst.BaseExpression, setup: TrainingSetup, depth: int) -> set[str] | None:
    if depth > 3:
        return None
    if isinstance(expr, cst.Name):
        values = setup.scope.get(expr.value) or []
        return _paths_in(values[0], setup, depth + 1) if len(values) == 1 else None
    if isinstance(expr, cst.Call):
        func = dotted_name(expr.func)
        if isinstance(expr.func, cst.Attribute) and expr.func.attr.value == "parameters" and not expr.args:
            owner = dotted_name(expr.func.value)
            return {owner} if owner else None
        if func in ("filter", "list", "tuple") and expr.args:
            return _paths_in(expr.args[-1].value, setup, depth + 1)
        return None
    if isinstance(expr, (cst.ListComp, cst.GeneratorExp)) and len(expr.for_in.ifs) <= 1 and expr.for_in.inner_for_in is None:
        if isinstance(expr.elt, cst.Name) and isinstance(expr.for_in.target, cst.Name) \
                and expr.elt.value == expr.for_in.target.value and _filters_requires_grad(expr):
            return _paths_in(expr.for_in.iter, setup, depth + 1)
        return None
    if isinstance(expr, (cst.List, cst.Tuple)):
        paths: set[str] = set()
        for element in expr.elements:
            if isinstance(element, cst.StarredElement):
                return None
            value = element.value
            if isinstance(value, cst.Dict):
                params = next((e.value for e in value.elements if isinstance(e, cst.DictElement)
                               and isinstance(e.key, cst.SimpleString) and e.key.evaluated_value == "params"), None)
                value = params if params is not None else value
            inner = _paths_in(value, setup, depth + 1)
            if inner is None:
                return None
            paths |= inner
        return paths
    return None


def _filters_requires_grad(comp: cst.ListComp | cst.GeneratorExp) -> bool:
    """No `if`, or `if <target>.requires_grad`."""
    if not comp.for_in.ifs:
        return True
    test = comp.for_in.ifs[0].test
    return isinstance(test, cst.Attribute) and test.attr.value == "requires_grad"


def _held(held: set[str], root: str, relative: tuple[str, ...]) -> bool:
    """Does a held path (`model`, `model.head`) contain what `relative` (below `root`) names?"""
    parts = [root, *relative]
    return any(".".join(parts[:i]) in held for i in range(1, len(parts) + 1))


# -- the replacements ----------------------------------------------------------------------------

def _replacements(statements: Sequence[cst.CSTNode], roots: str | dict[str, bool], module: ModuleInfo,
                  index: ProjectIndex) -> Iterator[_Replacement]:
    """Replacements of something below `roots` (a name -> whether it is the engine's returned wrapper, whose
    `_module` is the model) in `statements`, inline or in a project function called with the root."""
    table = {roots: False} if isinstance(roots, str) else roots
    for stmt in statements:
        if not isinstance(stmt, cst.SimpleStatementLine):
            continue
        for small in stmt.body:
            if isinstance(small, cst.Assign) and len(small.targets) == 1:
                found = _assignment(stmt, small.targets[0].target, small.value, table, module)
                if found is not None:
                    yield found
            elif isinstance(small, cst.Expr) and isinstance(small.value, cst.Call):
                found = _setattr(stmt, small.value, table, module) or _helper(stmt, small.value, table, module, index)
                if found is not None:
                    yield found


def _assignment(stmt: cst.CSTNode, target: cst.BaseExpression, value: cst.BaseExpression,
                roots: dict[str, bool], module: ModuleInfo) -> _Replacement | None:
    relative = _relative(target, roots)
    if not relative or not isinstance(value, cst.Call):
        return None
    path = _code(target)
    if _is_parameter(value, module):
        return _Replacement(stmt, relative, path, True) if len(relative) >= 2 else None
    if _keeps_old(value, path):
        return None
    return _Replacement(stmt, relative, path, False)


def _setattr(stmt: cst.CSTNode, call: cst.Call, roots: dict[str, bool], module: ModuleInfo) -> _Replacement | None:
    """`setattr(<path>, "<attr>", <call>)`."""
    if dotted_name(call.func) != "setattr" or len(call.args) != 3 or any(a.keyword or a.star for a in call.args):
        return None
    owner, name, value = (a.value for a in call.args)
    if not isinstance(name, cst.SimpleString) or not isinstance(name.evaluated_value, str):
        return None
    below = _relative(owner, roots)
    if below is None or not isinstance(value, cst.Call):
        return None
    path = f"{_code(owner)}.{name.evaluated_value}"
    relative = (*below, name.evaluated_value)
    if _is_parameter(value, module):
        return _Replacement(stmt, relative, path, True) if len(relative) >= 2 else None
    return None if _keeps_old(value, path) else _Replacement(stmt, relative, path, False)


def _helper(stmt: cst.CSTNode, call: cst.Call, roots: dict[str, bool], module: ModuleInfo,
            index: ProjectIndex) -> _Replacement | None:
    """`replace_head(model, 10)`: a project function replacing something below its parameter, in its body's
    unconditional statements."""
    qualname = module.resolve_expr(call.func) if dotted_name(call.func) else None
    function = index.lookup_function(qualname) if qualname else None
    if function is None:
        return None
    bound = bind_call(function.node, call, lambda expr: expr, lambda param: None)
    body = function.node.body.body if isinstance(function.node.body, cst.IndentedBlock) else []
    for param, passed in bound.items():
        if passed is None:
            continue
        below = _relative(passed, roots)
        if below is None:
            continue
        for inner in _replacements(body, param, function.module, index):
            if inner.helper is None:
                return _Replacement(stmt, (*below, *inner.relative), f"{_code(passed)}.{'.'.join(inner.relative)}",
                                    inner.parameter, f"{dotted_name(call.func)}()")
    return None


def _relative(expr: cst.BaseExpression, roots: dict[str, bool]) -> tuple[str, ...] | None:
    """The path below a root (`()` for the root itself): `model.head` -> ("head",), `model.classifier[6]` -> ("classifier", "6"),
    `self.model.head` -> ("head",) for the root `self.model`, `model._module.head` -> ("head",) for the
    returned wrapper (whose own attributes are not the model's: None for `wrapper.head`)."""
    parts: list[str] = []
    while isinstance(expr, (cst.Attribute, cst.Subscript)):
        if isinstance(expr, cst.Attribute):
            parts.append(expr.attr.value)
        else:
            element = expr.slice[0].slice if len(expr.slice) == 1 else None
            if not isinstance(element, cst.Index) or not isinstance(element.value, cst.Integer):
                return None
            parts.append(element.value.value)
        expr = expr.value
    if not isinstance(expr, cst.Name):
        return None
    parts.append(expr.value)
    parts.reverse()
    for root, wrapper in roots.items():
        head = root.split(".")
        if parts[:len(head)] != head:
            continue
        rest = parts[len(head):]
        if wrapper:
            if not rest or rest[0] != "_module":
                return None
            rest = rest[1:]
        return tuple(rest)
    return None


def _is_parameter(value: cst.Call, module: ModuleInfo) -> bool:
    qualname = module.resolve_expr(value.func) if dotted_name(value.func) else None
    return qualname in _PARAMETER_CLASSES


def _keeps_old(value: cst.Call, path: str) -> bool:
    """Does the new value contain the old module (`nn.Sequential(nn.Dropout(0.1), model.head)`), or is it the old
    one returned by a method (`model.head.to(device)`)? Reading an attribute of it (`model.head.in_features`) does
    not keep it."""
    if isinstance(value.func, cst.Attribute) and dotted_name(value.func.value) == path:
        return True
    for call in calls_in(value):
        for arg in call.args:
            if dotted_name(arg.value) == path or _mentions_bare(arg.value, path):
                return True
    return False


def _mentions_bare(expr: cst.BaseExpression, path: str) -> bool:
    if isinstance(expr, (cst.List, cst.Tuple)):
        return any(dotted_name(e.value) == path or _mentions_bare(e.value, path) for e in expr.elements)
    return False


# -- what was there ------------------------------------------------------------------------------

def _old_owner(change: _Replacement, cls: ClassInfo, models: ModuleModels) -> str | None:
    """A description of the replaced submodule when it owns a trainable parameter (not frozen), or of the layer
    whose parameter is replaced when it owns that parameter; None when unknown or not."""
    path = change.relative[:-1] if change.parameter else change.relative
    kind = _kind_at(cls, path, models)
    if kind is None or kind.frozen:
        return None
    if change.parameter:
        layer = kind.torch_class
        name = change.relative[-1]
        if layer is None or name not in _LAYER_PARAMETERS.get(layer, ()) or kind.call is None:
            return None
        if name == "bias" and any(a.keyword is not None and a.keyword.value == "bias" for a in kind.call.args):
            return None  # `bias=False` (or a value dp-lint does not read)
        return f"nn.{layer}"
    return kind.description if kind.owns_parameters is Tri.YES else None


def _kind_at(cls: ClassInfo, path: tuple[str, ...], models: ModuleModels) -> ModuleKind | None:
    kind: ModuleKind | None = None
    current: ClassInfo | None = cls
    for step in path:
        if step.isdigit():
            kind = _element(kind, int(step))
            current = kind.project_class if kind is not None else None
            continue
        if current is None:
            return None
        model = models.model(current)
        sub = model.submodules.get(step)
        if sub is None or model.is_frozen(step) or model.dynamic_attributes or model.unattributed_freeze \
                or len(model.variants.get(step, [])) > 1:
            return None
        kind = sub.kind
        current = kind.project_class
    return kind


def _element(kind: ModuleKind | None, position: int) -> ModuleKind | None:
    """Element `position` of an `nn.Sequential(a, b, c)` written with its layers as plain arguments."""
    if kind is None or kind.torch_class != "Sequential" or kind.call is None:
        return None
    if any(a.star or a.keyword is not None or isinstance(a.value, (cst.List, cst.Tuple)) for a in kind.call.args):
        return None
    if len(kind.elements) != len(kind.call.args) or position >= len(kind.elements):
        return None
    return kind.elements[position]


def _code(node: cst.CSTNode) -> str:
    return cst.Module([]).code_for_node(node)


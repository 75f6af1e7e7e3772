"""In-place operations on the output of a hooked layer (what DPL104 reports).

Opacus (1.5 and later) registers a *full* backward hook on every layer that owns trainable
parameters. torch then returns that layer's output as a view created by
`BackwardHookFunction`, and modifying such a view in place raises at forward time:

    RuntimeError: Output 0 of BackwardHookFunction is a view and is being modified inplace

Two shapes are found, both per instance of the private model (so settings passed down
through constructors are resolved):

- in an `nn.Sequential` (written inline, in a helper function, or from a `layers` list
  built with `append`/`extend`/`+=`): an in-place activation or dropout that directly
  follows a layer with trainable parameters (`Conv2d -> ReLU(inplace=True)`); a
  parameter-free layer in between (`Conv2d -> MaxPool2d -> ReLU(inplace=True)`) makes it
  harmless;
- in `forward`: an in-place module (`self.relu = nn.ReLU(inplace=True)`), an in-place
  function (`F.relu(h, inplace=True)`, `torch.relu_(h)`), an in-place tensor method
  (`h.relu_()`, `h.add_(x)`), an augmented assignment (`h += x`) or an item assignment
  (`h[:, 0] = v`) applied to the output of a call of a trainable layer (or a view of it:
  `.view()`, `.t()`, `.transpose()`...) made with grad enabled.

Unknown values never produce a site: a layer dp-lint cannot resolve, an `inplace=` it cannot
evaluate, a list modified in ways it does not follow.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import libcst as cst

from dp_lint.analysis import knowledge as tk
from dp_lint.analysis.constants import literal
from dp_lint.analysis.index import ClassInfo, ModuleInfo
from dp_lint.analysis.layers import Instance, ModuleArgument
from dp_lint.analysis.models import ModuleClass
from dp_lint.analysis.values import UNKNOWN
from dp_lint.files.source import SourceFile
from dp_lint.files.syntax import (
    argument,
    bind_call,
    blocks,
    dotted_name,
    enclosing,
    function_params,
    is_self,
    root_name,
    target_names,
    walk_statements,
)

# In-place capable layers: position of `inplace` among the constructor's positional arguments.
INPLACE_LAYERS = {
    "ReLU": 0, "ReLU6": 0, "SiLU": 0, "Hardswish": 0, "Mish": 0, "SELU": 0,
    "LeakyReLU": 1, "ELU": 1, "CELU": 1,
    "Hardtanh": 2, "Threshold": 2, "RReLU": 2,
    "Dropout": 1, "Dropout1d": 1, "Dropout2d": 1, "Dropout3d": 1,
}
_DROPOUTS = frozenset({"Dropout", "Dropout1d", "Dropout2d", "Dropout3d"})
# Layers that return their input unchanged: the hooked view passes through them.
_TRANSPARENT_LAYERS = frozenset({"Identity"})

# torch.nn.functional functions with an `inplace` parameter: its position.
INPLACE_FUNCTIONS = {
    "relu": 1, "relu6": 1, "selu": 1, "silu": 1, "hardswish": 1, "mish": 1,
    "elu": 2, "celu": 2, "leaky_relu": 2,
    "hardtanh": 3, "threshold": 3,
    "rrelu": 4,
    "dropout": 3, "dropout1d": 3, "dropout2d": 3, "dropout3d": 3,
}
# Always in-place functions (`F.relu_(h)`, `torch.relu_(h)`): the out-of-place twin.
ALWAYS_INPLACE_FUNCTIONS = {
    "torch.nn.functional.relu_": "torch.nn.functional.relu",
    "torch.nn.functional.elu_": "torch.nn.functional.elu",
    "torch.nn.functional.leaky_relu_": "torch.nn.functional.leaky_relu",
    "torch.nn.functional.hardtanh_": "torch.nn.functional.hardtanh",
    "torch.nn.functional.rrelu_": "torch.nn.functional.rrelu",
    "torch.nn.functional.celu_": "torch.nn.functional.celu",
    "torch.nn.functional.selu_": "torch.nn.functional.selu",
    "torch.relu_": "torch.relu",
    "torch.sigmoid_": "torch.sigmoid",
    "torch.tanh_": "torch.tanh",
}
# `_`-suffixed tensor methods that do not modify the tensor's values.
_NOT_DATA_METHODS = frozenset({"requires_grad_", "retain_grad_", "share_memory_", "detach_", "record_stream_"})
# In-place tensor methods with an out-of-place twin of the same name without `_` (same values).
OUT_OF_PLACE_TWINS = frozenset({
    "relu", "sigmoid", "tanh", "clamp", "clamp_min", "clamp_max", "clip", "add", "sub", "mul", "div",
    "abs", "neg", "exp", "log", "sqrt", "rsqrt", "pow", "sin", "cos", "floor", "ceil", "round", "sign",
    "masked_fill", "masked_scatter", "index_fill", "index_add", "index_copy", "scatter", "scatter_add",
    "fmod", "remainder", "lerp", "addcmul", "addcdiv", "square", "reciprocal", "trunc", "frac",
    "nan_to_num", "erf", "logit",
})
# Tensor methods returning a view of their receiver (in-place ops on it still hit the hooked view).
VIEW_METHODS = frozenset({"view", "view_as", "t", "transpose", "permute", "unsqueeze", "squeeze", "narrow", "unflatten"})
_STORING_METHODS = frozenset({"append", "extend", "insert", "update", "setdefault", "put"})
_AUG_OPERATORS: dict[type, type] = {
    cst.AddAssign: cst.Add, cst.SubtractAssign: cst.Subtract, cst.MultiplyAssign: cst.Multiply,
    cst.DivideAssign: cst.Divide, cst.FloorDivideAssign: cst.FloorDivide, cst.ModuloAssign: cst.Modulo,
    cst.PowerAssign: cst.Power, cst.MatrixMultiplyAssign: cst.MatrixMultiply,
    cst.BitAndAssign: cst.BitAnd, cst.BitOrAssign: cst.BitOr, cst.BitXorAssign: cst.BitXor,
    cst.LeftShiftAssign: cst.LeftShift, cst.RightShiftAssign: cst.RightShift,
}


@dataclass(frozen=True)
class Scope:
    """Where an expression is written: its module, and (inside a class's `__init__` or the
    methods it calls) the instance whose constructor arguments are bound."""

    module: ModuleInfo
    function: cst.FunctionDef | None = None
    instance: Instance | None = None
    owner: ClassInfo | None = None
    # Inside a module-level helper reached through one of its calls (`conv_bn_relu(c, 8,
    # inplace=True)`): that call, and the scope it is written in, bind the helper's parameters.
    call: cst.Call | None = None
    caller: Scope | None = None


@dataclass(frozen=True)
class Setting:
    value: object  # the resolved value, or UNKNOWN
    node: cst.BaseExpression | None  # the expression that set it (None: the default)
    file: SourceFile | None


@dataclass(frozen=True)
class Layer:
    """A torch layer built somewhere, with its arguments (a `partial`'s first) and their scopes."""

    name: str
    args: tuple  # of (cst.Arg, Scope)
    call: cst.Call
    scope: Scope  # where the construction call is written
    frozen: bool = False

    @property
    def file(self) -> SourceFile:
        return self.scope.module.file

    def setting(self, resolver: InPlaceAnalysis, keyword: str, position: int | None, default) -> Setting:
        for arg, scope in self.args:
            if arg.keyword is not None and arg.keyword.value == keyword:
                return Setting(resolver.evaluate(arg.value, scope), arg.value, scope.module.file)
        if any(arg.star for arg, _ in self.args):
            return Setting(UNKNOWN, None, None)
        positional = [(a, s) for a, s in self.args if a.keyword is None]
        if position is not None and len(positional) > position:
            arg, scope = positional[position]
            return Setting(resolver.evaluate(arg.value, scope), arg.value, scope.module.file)
        return Setting(default, None, None)

    def owns_trainable(self, resolver: InPlaceAnalysis) -> bool:
        """Certainly owns trainable parameters (so Opacus hooks it)."""
        if self.frozen:
            return False
        if self.name in tk.AFFINE_DEFAULT_OFF:
            return self.setting(resolver, "affine", None, False).value is True
        if self.name not in tk.LAYERS_WITH_PARAMETERS or self.name in tk.CONTAINERS:
            return False
        keyword = tk.AFFINE_KEYWORD.get(self.name)
        if keyword is None:
            return True
        return self.setting(resolver, keyword, None, True).value is True

    def inplace(self, resolver: InPlaceAnalysis) -> Setting | None:
        """The `inplace=True` setting of an in-place capable layer, when it certainly is on."""
        if self.name not in INPLACE_LAYERS:
            return None
        found = self.setting(resolver, "inplace", INPLACE_LAYERS[self.name], False)
        if found.value is not True:
            return None
        if self.name in _DROPOUTS:
            p = self.setting(resolver, "p", 0, 0.5).value
            if not isinstance(p, (int, float)) or isinstance(p, bool) or p <= 0:
                return None  # p=0 never modifies anything (measured: no error)
        return found


@dataclass(frozen=True)
class Entry:
    """One element of an `nn.Sequential`, in order. `guard` names the blocks (an `if` body,
    one loop iteration) it was added under: an element is certainly there whenever another
    one is if its guard is a prefix of the other's."""

    expr: cst.BaseExpression
    scope: Scope
    guard: tuple = ()

    def certain_with(self, other: Entry) -> bool:
        return other.guard[: len(self.guard)] == self.guard


@dataclass(frozen=True)
class InPlaceSite:
    """An in-place operation that will hit a hooked layer's output view."""

    node: cst.CSTNode  # where it is reported
    file: SourceFile
    how: str  # "`nn.ReLU(inplace=True)`", "`out += ...`", "`.relu_()`"
    producer: str  # "`self.conv1` (nn.Conv2d)"
    kind: str  # "layer" | "module_call" | "function" | "always_function" | "method" | "augassign" | "setitem"
    # "layer"/"module_call": the `inplace` argument to switch off (None: comes from a default)
    setting: Setting | None = None
    layer: Layer | None = None
    # The in-place result may be seen through another name (alias, container, view):
    # rewriting it out of place would change what that other reference sees.
    aliased: bool = False
    statement_target: str | None = None  # for a method call statement `h.relu_()`: `h`


@dataclass(eq=False)
class _Hooked:
    producer: str
    names: set = field(default_factory=set)
    escaped: bool = False

    @property
    def aliased(self) -> bool:
        return self.escaped or len(self.names) > 1


class InPlaceAnalysis:
    """Finds `InPlaceSite`s in the private models of a project."""

    def __init__(self, project):
        self.project = project
        self.models = project.modules
        self.index = project.index
        self.tree = project.layer_tree
        self._sites: dict[int, InPlaceSite] = {}

    # -- entry point ---------------------------------------------------------------

    def sites(self) -> list[InPlaceSite]:
        for model in self.project.private_models:
            instances = self.project.guarded(f"instances of {model.instance.cls.qualname}",
                                             lambda m=model: list(self._instances(m.instance)), [])
            for instance in instances:
                self.project.guarded(f"in-place analysis of {instance.cls.qualname}",
                                     lambda i=instance: self._instance(i), None)
        return sorted(self._sites.values(), key=lambda s: (str(s.file.path), s.file.positions[s.node].start.line))

    def _instance(self, instance: Instance) -> None:
        module_class = self.models.model(instance.cls)
        if module_class.unattributed_freeze or module_class.freezes_everything:
            return
        for attr, sub in module_class.submodules.items():
            if self._frozen(module_class, attr) or sub.alias_of is not None:
                continue
            for variant in module_class.variants.get(attr, [sub]):
                if not self._not_built(variant.conditions, instance, variant.owner):
                    self._sequentials(variant.kind, instance, variant.owner)
            helper_block = self.submodule_layer(instance, attr)
            if helper_block is not None and helper_block.name == "Sequential" and helper_block.scope.call is not None:
                # `self.stem = conv_bn_relu(3, 16)`: the helper's block with this call's arguments.
                self._check_sequential(helper_block.call, helper_block.scope)
        self._forward(instance)

    def _not_built(self, conditions, instance: Instance, owner: ClassInfo) -> bool:
        """Is a module built under `if <test>:` known not to be built for this instance?"""
        for test, outcome in conditions:
            value = self.tree.evaluate(test, instance, owner)
            if value is not UNKNOWN and bool(value) != outcome:
                return True
        return False

    def _add(self, site: InPlaceSite) -> None:
        self._sites.setdefault(id(site.node), site)

    def _frozen(self, module_class: ModuleClass, attr: str) -> bool:
        return module_class.is_frozen(attr) or self.models.frozen_elsewhere(module_class.cls, attr)

    def _instances(self, root: Instance) -> Iterator[Instance]:
        stack = [root]
        while stack:
            instance = stack.pop()
            if instance.depth > 12:
                continue
            yield instance
            module_class = self.models.model(instance.cls)
            for attr, sub in module_class.submodules.items():
                if self._frozen(module_class, attr) or sub.alias_of is not None:
                    continue
                stack.extend(self._children(sub.kind, instance, sub.owner, f"{instance.path}.{attr}"))

    def _children(self, kind, instance, owner, path) -> list[Instance]:
        if kind.frozen:
            return []
        if kind.param is not None and instance is not None and owner is not None:
            handed = instance.scopes.get(owner, {}).get(kind.param)
            if isinstance(handed, ModuleArgument):
                return self._children(handed.kind, handed.instance, handed.owner, path)
            return []
        found = []
        for element in kind.elements:
            found.extend(self._children(element, instance, owner, path))
        if kind.project_class is not None:
            depth = instance.depth + 1 if instance is not None else 0
            found.append(self.tree.instantiate(kind.project_class, kind.call, kind.module, instance, owner, path, depth))
        return found

    # -- values --------------------------------------------------------------------

    def evaluate(self, expr, scope: Scope, depth: int = 0):
        if scope.call is not None and isinstance(expr, cst.Name) and depth < 8:
            bound = self._bound_argument(expr.value, scope)
            if bound is not None:
                return self.evaluate(bound[0], bound[1], depth + 1)
        if scope.instance is not None and scope.owner is not None:
            return self.tree.evaluate(expr, scope.instance, scope.owner)
        return literal(expr, scope.module)

    def scope_of(self, call: cst.CSTNode, module: ModuleInfo, instance: Instance | None, owner: ClassInfo | None) -> Scope:
        """The scope of an expression written in `module`: inside a method of `owner` the
        instance's bindings apply; in a free (helper) function only literals do."""
        found = enclosing(call, module.file.parents, cst.FunctionDef)
        function = found if isinstance(found, cst.FunctionDef) else None
        if owner is not None and instance is not None and function is not None:
            for cls in self.index.mro(instance.cls):
                if any(m.node is function for m in cls.methods.values()):
                    return Scope(module, function, instance, cls)
        return Scope(module, function)

    def _locals(self, scope: Scope) -> dict[str, cst.BaseExpression]:
        """Names assigned exactly once in the scope's function."""
        if scope.function is None:
            return {}
        body = scope.function.body.body if isinstance(scope.function.body, cst.IndentedBlock) else []
        return {name: values[0] for name, values in _assignments(body).items() if len(values) == 1}

    def _bound_argument(self, name: str, scope: Scope) -> tuple[cst.BaseExpression, Scope] | None:
        """The expression an `__init__` parameter gets (the caller's argument, or the default);
        in a helper reached through a call, what that call passes (or the default)."""
        if scope.call is not None and scope.function is not None:
            return self._helper_argument(name, scope)
        instance, owner = scope.instance, scope.owner
        if instance is None or owner is None:
            return None
        init = owner.methods.get("__init__")
        if init is None or scope.function is not init.node:
            return None
        if name not in {p.name.value for p in function_params(init.node)}:
            return None
        binding = instance.bound_by.get(owner)
        call = binding.call if binding is not None else None
        call_module = binding.call_module if binding is not None else None
        parent = binding.instance if binding is not None else None
        parent_owner = binding.owner if binding is not None else None
        bound = bind_call(
            init.node, call, lambda expr: ("argument", expr),
            lambda param: ("default", param.default) if param is not None and param.default is not None else None,
            skip_self=True,
        )
        found = bound.get(name)
        if found is None:
            return None
        how, expr = found
        if how == "default":
            return expr, Scope(owner.module)
        if call is None or call_module is None:
            return None
        return expr, self.scope_of(call, call_module, parent, parent_owner)

    def _helper_argument(self, name: str, scope: Scope) -> tuple[cst.BaseExpression, Scope] | None:
        function, call, caller = scope.function, scope.call, scope.caller
        if function is None or call is None or caller is None:
            return None
        if name not in {p.name.value for p in function_params(function)}:
            return None
        bound = bind_call(
            function, call, lambda expr: ("argument", expr),
            lambda param: ("default", param.default) if param is not None and param.default is not None else None,
        )
        found = bound.get(name)
        if found is None:
            return None
        how, expr = found
        return (expr, caller) if how == "argument" else (expr, Scope(scope.module))

    def helper_return(self, func, scope: Scope, depth: int = 0) -> tuple[cst.FunctionDef, ModuleInfo, cst.BaseExpression] | None:
        """A module-level project function `func` names (directly, or through a local or a
        parameter holding it: `norm_layer = group_norm`) whose body returns one expression:
        the function, its module, and that expression. Helpers with several returns, generators
        and methods are not followed (their result depends on what dp-lint does not track)."""
        if depth > 8:
            return None
        if isinstance(func, cst.Name):
            local = self._locals(scope).get(func.value)
            if local is not None:
                return self.helper_return(local, scope, depth + 1)
            bound = self._bound_argument(func.value, scope)
            if bound is not None:
                return self.helper_return(bound[0], bound[1], depth + 1)
        if not isinstance(func, (cst.Name, cst.Attribute)):
            return None
        qualname = scope.module.resolve_expr(func)
        function = self.index.lookup_function(qualname) if qualname else None
        if function is None or function.node.asynchronous is not None:
            return None
        body = function.node.body.body if isinstance(function.node.body, cst.IndentedBlock) else []
        returns: list[cst.Return] = []
        for stmt in walk_statements(body):
            if isinstance(stmt, cst.SimpleStatementLine):
                returns.extend(small for small in stmt.body if isinstance(small, cst.Return))
        if len(returns) != 1 or returns[0].value is None or "yield" in cst.Module([]).code_for_node(function.node):
            return None
        return function.node, function.module, returns[0].value

    def _class_value(self, expr, scope: Scope, depth: int = 0) -> tuple[str, tuple] | None:
        """A torch layer class written as a value: `nn.ReLU`, `partial(nn.ReLU, inplace=True)`,
        or a parameter/local holding one. Returns (class name, the partial's arguments)."""
        if depth > 8:
            return None
        if isinstance(expr, (cst.Name, cst.Attribute)):
            name = self.tk_class(expr, scope.module)
            if name is not None:
                return name, ()
            if isinstance(expr, cst.Name):
                local = self._locals(scope).get(expr.value)
                if local is not None:
                    return self._class_value(local, scope, depth + 1)
                bound = self._bound_argument(expr.value, scope)
                if bound is not None:
                    return self._class_value(bound[0], bound[1], depth + 1)
            return None
        if isinstance(expr, cst.Call) and scope.module.resolve_expr(expr.func) in {"functools.partial", "partial"}:
            if not expr.args or expr.args[0].keyword is not None:
                return None
            inner = self._class_value(expr.args[0].value, scope, depth + 1)
            if inner is None:
                return None
            name, earlier = inner
            return name, earlier + tuple((a, scope) for a in expr.args[1:])
        return None

    def tk_class(self, expr, module: ModuleInfo) -> str | None:
        qualname = module.resolve_expr(expr)
        name = tk.torch_class_name(qualname)
        return name if name is not None and name[:1].isupper() else None

    def layer(self, expr, scope: Scope, depth: int = 0) -> Layer | None:
        """The torch layer `expr` builds, or None."""
        if depth > 8 or expr is None:
            return None
        if isinstance(expr, cst.Call):
            func = expr.func
            if isinstance(func, cst.Attribute) and func.attr.value in {"to", "cuda", "cpu", "float", "double", "requires_grad_"}:
                inner = self.layer(func.value, scope, depth + 1)
                if inner is None:
                    return None
                if func.attr.value == "requires_grad_" and expr.args and literal(expr.args[0].value, None) is False:
                    return Layer(inner.name, inner.args, inner.call, inner.scope, frozen=True)
                return inner
            found = self._class_value(func, scope, depth + 1)
            if found is None:
                # `conv_bn_relu(c, 8)`, `norm_layer(c)` with `norm_layer=group_norm`: the layer
                # the helper returns, its parameters bound to this call's arguments.
                helper = self.helper_return(func, scope, depth + 1)
                if helper is None:
                    return None
                function, module, returned = helper
                return self.layer(returned, Scope(module, function, call=expr, caller=scope), depth + 1)
            name, partial_args = found
            return Layer(name, partial_args + tuple((a, scope) for a in expr.args), expr, scope)
        if isinstance(expr, cst.Name):
            local = self._locals(scope).get(expr.value)
            if local is not None:
                return self.layer(local, scope, depth + 1)
            bound = self._bound_argument(expr.value, scope)
            if bound is not None:
                return self.layer(bound[0], bound[1], depth + 1)
        return None

    # -- nn.Sequential -------------------------------------------------------------

    def _sequentials(self, kind, instance, owner, depth: int = 0) -> None:
        if kind.frozen or depth > 8:
            return
        if kind.param is not None and instance is not None and owner is not None:
            handed = instance.scopes.get(owner, {}).get(kind.param)
            if isinstance(handed, ModuleArgument):
                self._sequentials(handed.kind, handed.instance, handed.owner, depth + 1)
            return
        if kind.torch_class == "Sequential" and kind.call is not None and kind.module is not None:
            self._check_sequential(kind.call, self.scope_of(kind.call, kind.module, instance, owner))
        if kind.torch_class is not None:
            for element in kind.elements:
                self._sequentials(element, instance, owner, depth + 1)

    def entries(self, call: cst.Call, scope: Scope) -> list[Entry] | None:
        """The elements of `nn.Sequential(...)` in order, or None when dp-lint cannot list them."""
        args = [a for a in call.args if a.keyword is None]
        if len(args) == 1 and not args[0].star and isinstance(args[0].value, cst.Call):
            inner = args[0].value
            if dotted_name(inner.func) in {"OrderedDict", "collections.OrderedDict"} and len(inner.args) == 1:
                pairs = inner.args[0].value
                if isinstance(pairs, (cst.List, cst.Tuple)):
                    named = []
                    for element in pairs.elements:
                        if not (isinstance(element.value, cst.Tuple) and len(element.value.elements) == 2):
                            return None
                        named.append(Entry(element.value.elements[1].value, scope))
                    return named
        found: list[Entry] = []
        for arg in args:
            if arg.star == "*":
                listed = self._list_entries(arg.value, scope, call)
                if listed is None:
                    return None
                found.extend(listed)
            elif arg.star:
                return None
            else:
                found.append(Entry(arg.value, scope))
        return found

    def _list_entries(self, expr, scope: Scope, use: cst.Call | None) -> list[Entry] | None:
        if isinstance(expr, (cst.List, cst.Tuple)):
            return self._literal_entries(expr, scope)
        if isinstance(expr, (cst.ListComp, cst.GeneratorExp)):
            # any number of copies: two iterations show what follows what
            return [Entry(expr.elt, scope, (_Token(),)), Entry(expr.elt, scope, (_Token(),))]
        if not isinstance(expr, cst.Name) or scope.function is None:
            return None
        return _ListBuilder(expr.value, scope, use).entries()

    def _literal_entries(self, expr, scope: Scope) -> list[Entry] | None:
        found = []
        for element in expr.elements:
            if isinstance(element, cst.StarredElement):
                inner = self._list_entries(element.value, scope, None)
                if inner is None:
                    return None
                found.extend(inner)
            else:
                found.append(Entry(element.value, scope))
        return found

    def _check_sequential(self, call: cst.Call, scope: Scope, depth: int = 0) -> None:
        entries = self.entries(call, scope)
        if entries is None or depth > 8:
            return
        for i, entry in enumerate(entries):
            layer = self.layer(entry.expr, entry.scope)
            if layer is None:
                continue
            if layer.name == "Sequential" and layer.scope.call is not None:
                # A block a helper builds (`conv_bn_relu(c, w)`), read with that call's arguments.
                self._check_sequential(layer.call, layer.scope, depth + 1)
                continue
            setting = layer.inplace(self)
            if setting is None:
                continue
            producers = self._predecessors(entries, i)
            if not producers:
                continue
            descriptions = [self._trainable_output(p.expr, p.scope) for p in producers]
            if all(descriptions):
                self._add(InPlaceSite(
                    entry.expr, entry.scope.module.file, f"`nn.{layer.name}(inplace=True)`",
                    descriptions[-1] or "", "layer", setting=setting, layer=layer,
                ))

    def _predecessors(self, entries: list[Entry], index: int) -> list[Entry]:
        """The elements whose output may be the input of `entries[index]`: walking back over
        elements that may be absent, up to one that is certainly there. Empty when the
        Sequential's own input may arrive (not a hooked output as far as dp-lint knows)."""
        found = []
        current = entries[index] if index < len(entries) else Entry(cst.Name("input"), entries[0].scope)
        for entry in reversed(entries[:index]):
            layer = self.layer(entry.expr, entry.scope)
            if layer is not None and layer.name in _TRANSPARENT_LAYERS:
                continue
            found.append(entry)
            if entry.certain_with(current):
                return found
        return []

    def _trainable_output(self, expr, scope: Scope, depth: int = 0) -> str | None:
        """A description of the trainable layer whose (hooked) output `expr`'s call returns, or None."""
        layer = self.layer(expr, scope)
        if layer is None or depth > 6:
            return None
        return self.trainable_output_of(layer, depth)

    def trainable_output_of(self, layer: Layer, depth: int = 0) -> str | None:
        if layer.name == "Sequential":
            entries = self.entries(layer.call, layer.scope)
            if not entries:
                return None
            last = self._predecessors(entries, len(entries))
            found = [self._trainable_output(e.expr, e.scope, depth + 1) for e in last]
            return found[-1] if found and all(found) else None
        if layer.owns_trainable(self):
            return f"nn.{layer.name}"
        return None

    # -- forward -------------------------------------------------------------------

    def _forward(self, instance: Instance) -> None:
        found = self.index.find_method(instance.cls, "forward")
        if found is None:
            return
        owner, forward = found
        if any(name in tk.NO_GRAD for name in forward.decorator_names()):
            return
        _ForwardReader(self, instance, owner, forward).run()

    def submodule_layer(self, instance: Instance, attr: str) -> Layer | None:
        module_class = self.models.model(instance.cls)
        found = module_class.attribute_values.get(attr)
        if found is None:
            return None
        if any(variant.conditions for variant in module_class.variants.get(attr, [])):
            return None  # which construction this instance holds depends on a condition
        expr, writer = found
        layer = self.layer(expr, self.scope_of(expr, writer.module, instance, writer))
        if layer is not None and self._frozen(module_class, attr):
            return Layer(layer.name, layer.args, layer.call, layer.scope, frozen=True)
        return layer


class _Token:
    """One execution of a block (an `if` body, one loop iteration) while listing elements."""


class _ListBuilder:
    """The elements a local list (`layers = []; layers.append(...)`) holds where it is used,
    in order, each with the blocks it was added under; loop bodies count twice."""

    def __init__(self, name: str, scope: Scope, use: cst.CSTNode | None):
        self.name = name
        self.scope = scope
        self.use = use
        self.found: list[Entry] | None = None
        self.failed = False

    def entries(self) -> list[Entry] | None:
        function = self.scope.function
        if function is None:
            return None
        body = function.body.body if isinstance(function.body, cst.IndentedBlock) else []
        if not self._untouched_otherwise(function):
            return None
        self._block(body, ())
        if self.failed or self.found is None:
            return None
        return self.found

    def _untouched_otherwise(self, function) -> bool:
        """Only `append`/`extend`/`+=`/assignments and reads touch the list."""
        stack = [function]
        parents = self.scope.module.file.parents
        while stack:
            node = stack.pop()
            stack.extend(node.children)
            if isinstance(node, cst.Name) and node.value == self.name:
                parent = parents.get(node)
                if isinstance(parent, cst.Attribute) and parent.value is node:
                    if parent.attr.value not in {"append", "extend"}:
                        return False
                if isinstance(parent, cst.Subscript):
                    return False
        return True

    def _block(self, statements, guard: tuple) -> None:
        for stmt in statements:
            if self.failed:
                return
            if isinstance(stmt, cst.SimpleStatementLine):
                for small in stmt.body:
                    self._small(small, guard)
            elif isinstance(stmt, (cst.For, cst.While)):
                for _ in range(2):
                    self._block(stmt.body.body if isinstance(stmt.body, cst.IndentedBlock) else [], guard + (_Token(),))
            elif isinstance(stmt, (cst.FunctionDef, cst.ClassDef)):
                continue
            else:
                for block in blocks(stmt):
                    self._block(block, guard + (_Token(),))

    def _small(self, small, guard: tuple) -> None:
        if isinstance(small, (cst.Assign, cst.AnnAssign)) and small.value is not None:
            targets = small.targets if isinstance(small, cst.Assign) else [small]
            if any(isinstance(t.target, cst.Name) and t.target.value == self.name for t in targets):
                if guard:
                    self.failed = True
                    return
                self.found = self._elements(small.value, guard)
                if self.found is None:
                    self.failed = True
        elif isinstance(small, cst.AugAssign) and isinstance(small.target, cst.Name) and small.target.value == self.name:
            self._extend(small.value, guard)
        elif isinstance(small, cst.Expr) and isinstance(small.value, cst.Call):
            func = small.value.func
            if isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name) and func.value.value == self.name:
                args = small.value.args
                if len(args) != 1 or args[0].keyword is not None or args[0].star:
                    self.failed = True
                elif func.attr.value == "append":
                    if self.found is None:
                        self.failed = True
                    else:
                        self.found.append(Entry(args[0].value, self.scope, guard))
                else:
                    self._extend(args[0].value, guard)

    def _extend(self, value, guard: tuple) -> None:
        added = self._elements(value, guard)
        if added is None or self.found is None:
            self.failed = True
        else:
            self.found.extend(added)

    def _elements(self, value, guard: tuple) -> list[Entry] | None:
        if isinstance(value, (cst.List, cst.Tuple)):
            found = []
            for element in value.elements:
                if isinstance(element, cst.StarredElement):
                    return None
                found.append(Entry(element.value, self.scope, guard))
            return found
        if isinstance(value, (cst.ListComp, cst.GeneratorExp)):
            return [Entry(value.elt, self.scope, guard + (_Token(),)), Entry(value.elt, self.scope, guard + (_Token(),))]
        return None


class _ForwardReader:
    """Reads `forward` in order, tracking which local names hold a hooked layer output."""

    def __init__(self, analysis: InPlaceAnalysis, instance: Instance, owner: ClassInfo, forward):
        self.analysis = analysis
        self.instance = instance
        self.owner = owner
        self.forward = forward
        self.module = forward.module
        self.file = forward.module.file

    def run(self) -> None:
        body = self.forward.node.body
        self._block(body.body if isinstance(body, cst.IndentedBlock) else [], {}, True)

    # -- statements --

    def _block(self, statements, env: dict, grad: bool) -> None:
        for stmt in statements:
            self._statement(stmt, env, grad)

    def _branches(self, bodies, env: dict, grad: bool) -> None:
        results = []
        for body in bodies:
            branch = dict(env)
            self._block(body, branch, grad)
            results.append(branch)
        env.clear()
        for branch in results:
            for name, value in branch.items():
                if value is not None and env.get(name) is None:
                    env[name] = value

    def _statement(self, stmt, env: dict, grad: bool) -> None:
        if isinstance(stmt, cst.SimpleStatementLine):
            for small in stmt.body:
                self._small(small, env, grad)
        elif isinstance(stmt, cst.If):
            training = _training_test(stmt.test)
            orelse = stmt.orelse
            other = orelse.body.body if isinstance(orelse, cst.Else) else ([orelse] if orelse is not None else [])
            if training is True:  # Opacus trains in train mode: the other branch never runs hooked
                self._block(stmt.body.body, env, grad)
                return
            if training is False:
                self._block(other, env, grad)
                return
            self._expr(stmt.test, env, grad)
            self._branches([stmt.body.body, other], env, grad)
        elif isinstance(stmt, (cst.For, cst.While)):
            self._expr(stmt.iter if isinstance(stmt, cst.For) else stmt.test, env, grad)
            if isinstance(stmt, cst.For):
                for name in target_names(stmt.target):
                    env.pop(name, None)
            for _ in range(2):
                self._branches([stmt.body.body, []], env, grad)
        elif isinstance(stmt, cst.With):
            inner = grad
            for item in stmt.items:
                qualname = self.module.resolve_expr(item.item.func if isinstance(item.item, cst.Call) else item.item)
                if qualname in tk.NO_GRAD:
                    inner = False
                elif qualname in tk.ENABLE_GRAD:
                    inner = True
                elif qualname in tk.SET_GRAD_ENABLED:
                    inner = False  # unknown grad mode: never claim a hooked output
            self._block(stmt.body.body, env, inner)
        elif isinstance(stmt, cst.Try):
            self._block(stmt.body.body, env, grad)
        elif not isinstance(stmt, (cst.FunctionDef, cst.ClassDef)):
            for block in blocks(stmt):
                self._branches([block, []], env, grad)

    def _small(self, small, env: dict, grad: bool) -> None:
        if isinstance(small, cst.Assign):
            value = self._expr(small.value, env, grad)
            for target in small.targets:
                self._assign(target.target, value, small, env, grad)
        elif isinstance(small, cst.AnnAssign) and small.value is not None:
            self._assign(small.target, self._expr(small.value, env, grad), small, env, grad)
        elif isinstance(small, cst.AugAssign):
            self._expr(small.value, env, grad)
            changed = small.target
            name = root_name(changed)
            hooked = env.get(name) if name is not None else None
            if hooked is not None and isinstance(changed, (cst.Name, cst.Subscript)):
                op = small.operator.__class__.__name__
                self.analysis._add(InPlaceSite(
                    small, self.file, f"`{_code(changed)} {_AUG_TEXT.get(op, op)} ...`", hooked.producer,
                    "augassign" if isinstance(changed, cst.Name) else "setitem", aliased=hooked.aliased,
                ))
                env[name] = None  # after the fix (`h = h + x`) the name holds a fresh tensor
        elif isinstance(small, cst.Return) and small.value is not None:
            self._expr(small.value, env, grad)
        elif isinstance(small, cst.Expr):
            self._expr(small.value, env, grad, statement=True)

    def _assign(self, target, value, statement, env: dict, grad: bool) -> None:
        if isinstance(target, cst.Name):
            if value is not None:
                value.names.add(target.value)
            env[target.value] = value
        elif isinstance(target, cst.Subscript):
            name = root_name(target)
            hooked = env.get(name) if name is not None else None
            if hooked is not None and isinstance(target.value, cst.Name):
                self.analysis._add(InPlaceSite(
                    statement, self.file, f"`{_code(target)} = ...`", hooked.producer, "setitem",
                    aliased=hooked.aliased, statement_target=name,
                ))
                env[name] = None  # after the fix (`h = h.clone()` first) the name holds a copy
            if value is not None:
                value.escaped = True
        else:
            if value is not None:
                value.escaped = True  # stored in an attribute or unpacked: another reference
            for name in target_names(target):
                env[name] = None

    # -- expressions --

    def _expr(self, expr, env: dict, grad: bool, statement: bool = False) -> _Hooked | None:
        if isinstance(expr, cst.Name):
            return env.get(expr.value)
        if isinstance(expr, cst.Call):
            return self._call(expr, env, grad, statement)
        if isinstance(expr, cst.Attribute):
            self._expr(expr.value, env, grad)
            return None
        if isinstance(expr, (cst.Tuple, cst.List, cst.Set)):
            for element in expr.elements:
                value = self._expr(element.value, env, grad)
                if value is not None:
                    value.escaped = True
            return None
        for child in expr.children:
            if isinstance(child, cst.BaseExpression):
                value = self._expr(child, env, grad)
                if value is not None and isinstance(expr, (cst.Dict, cst.DictElement, cst.IfExp, cst.NamedExpr,
                                                           cst.Lambda, cst.Subscript)):
                    value.escaped = True
            elif isinstance(child, cst.CSTNode):
                self._children(child, env, grad)
        return None

    def _children(self, node, env: dict, grad: bool) -> None:
        for child in node.children:
            if isinstance(child, cst.BaseExpression):
                value = self._expr(child, env, grad)
                if value is not None and isinstance(node, (cst.DictElement, cst.Element, cst.StarredElement)):
                    value.escaped = True
            else:
                self._children(child, env, grad)

    def _args(self, call: cst.Call, env: dict, grad: bool) -> list:
        return [self._expr(arg.value, env, grad) for arg in call.args]

    def _call(self, call: cst.Call, env: dict, grad: bool, statement: bool) -> _Hooked | None:
        func = call.func
        analysis = self.analysis
        # self.<attr>(...)
        if isinstance(func, cst.Attribute) and is_self(func.value):
            attr = func.attr.value
            values = self._args(call, env, grad)
            layer = analysis.submodule_layer(self.instance, attr)
            if layer is None:
                for value in values:  # a method or a module dp-lint cannot see: it may keep references
                    if value is not None:
                        value.escaped = True
                return None
            first = values[0] if values else None
            setting = layer.inplace(analysis)
            if setting is not None and first is not None and grad:
                analysis._add(InPlaceSite(
                    call, self.file, f"`self.{attr}` (`nn.{layer.name}(inplace=True)`)", first.producer,
                    "module_call", setting=setting, layer=layer,
                    aliased=first.aliased or not self._rebinds_argument(call),
                ))
                return None
            if layer.name in _TRANSPARENT_LAYERS:
                return first
            if not grad:
                return None
            if layer.name == "Sequential":
                description = analysis.trainable_output_of(layer)
                return _Hooked(f"`self.{attr}` (an nn.Sequential ending in {description})") if description else None
            if layer.owns_trainable(analysis):
                return _Hooked(f"`self.{attr}` (nn.{layer.name})")
            return None
        qualname = self.module.resolve_expr(func) if isinstance(func, (cst.Name, cst.Attribute)) else None
        if qualname is not None and qualname in ALWAYS_INPLACE_FUNCTIONS:
            values = self._args(call, env, grad)
            if values and values[0] is not None and call.args[0].keyword is None:
                analysis._add(InPlaceSite(call, self.file, f"`{dotted_name(func)}()`", values[0].producer,
                                          "always_function", aliased=values[0].aliased))
            return None
        if qualname is not None and qualname.startswith("torch.nn.functional."):
            short = qualname.rsplit(".", 1)[-1]
            values = self._args(call, env, grad)
            if short in INPLACE_FUNCTIONS and values and values[0] is not None and call.args[0].keyword is None:
                if self._functional_inplace(call, short):
                    analysis._add(InPlaceSite(call, self.file, f"`{dotted_name(func)}(..., inplace=True)`",
                                              values[0].producer, "function", aliased=values[0].aliased))
            return None
        if isinstance(func, cst.Attribute):
            method = func.attr.value
            receiver = self._expr(func.value, env, grad)
            values = self._args(call, env, grad)
            for value in values:
                if value is not None and method in _STORING_METHODS:
                    value.escaped = True  # kept in a container
            if receiver is None:
                return None
            if method.endswith("_") and not method.endswith("__") and method not in _NOT_DATA_METHODS:
                target = func.value.value if statement and isinstance(func.value, cst.Name) else None
                analysis._add(InPlaceSite(call, self.file, f"`.{method}()`", receiver.producer, "method",
                                          aliased=receiver.aliased, statement_target=target))
                if target is not None:
                    env[target] = None  # after the fix (`h = h.relu()`) the name holds a fresh tensor
                return None
            if method in VIEW_METHODS:
                # The view shares storage with its receiver: a name still holding the receiver
                # would see an in-place change made through the view.
                view = _Hooked(receiver.producer, escaped=receiver.escaped or bool(receiver.names))
                if receiver.names:
                    receiver.escaped = True
                return view
            return None
        values = self._args(call, env, grad)
        if qualname is None or not qualname.startswith("torch."):
            for value in values:
                if value is not None:
                    value.escaped = True
        return None

    def _functional_inplace(self, call: cst.Call, short: str) -> bool:
        position = INPLACE_FUNCTIONS[short]
        value = argument(call, "inplace", position)
        if value is None or literal(value, self.module) is not True:
            return False
        if short.startswith("dropout"):
            p = argument(call, "p", 1)
            p_value = 0.5 if p is None else literal(p, self.module)
            if not isinstance(p_value, (int, float)) or p_value <= 0:
                return False
            training = argument(call, "training", 2)
            if training is not None and literal(training, self.module) is False:
                return False
        return True

    def _rebinds_argument(self, call: cst.Call) -> bool:
        """`out = self.relu(out)` or `self.relu(self.conv(x))`: no other name sees the input."""
        if not call.args:
            return False
        argument = call.args[0].value
        if not isinstance(argument, cst.Name):
            return not isinstance(argument, (cst.Attribute, cst.Subscript))
        parents = self.file.parents
        statement = parents.get(call)
        if isinstance(statement, cst.Assign):
            return any(isinstance(t.target, cst.Name) and t.target.value == argument.value for t in statement.targets)
        return False


_AUG_TEXT = {
    "AddAssign": "+=", "SubtractAssign": "-=", "MultiplyAssign": "*=", "DivideAssign": "/=",
    "FloorDivideAssign": "//=", "ModuloAssign": "%=", "PowerAssign": "**=", "MatrixMultiplyAssign": "@=",
    "BitAndAssign": "&=", "BitOrAssign": "|=", "BitXorAssign": "^=", "LeftShiftAssign": "<<=",
    "RightShiftAssign": ">>=",
}


def _code(node: cst.CSTNode) -> str:
    return cst.Module(body=[]).code_for_node(node)


def _training_test(test) -> bool | None:
    if isinstance(test, cst.Attribute) and is_self(test.value) and test.attr.value == "training":
        return True
    if isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
        inner = _training_test(test.expression)
        return None if inner is None else not inner
    return None


def _assignments(body) -> dict[str, list]:
    found: dict[str, list] = {}
    for stmt in walk_statements(body):
        if isinstance(stmt, cst.SimpleStatementLine):
            for small in stmt.body:
                if isinstance(small, (cst.Assign, cst.AnnAssign)) and small.value is not None:
                    targets = small.targets if isinstance(small, cst.Assign) else [small]
                    for target in targets:
                        for name in target_names(target.target):
                            found.setdefault(name, []).append(small.value)
                elif isinstance(small, cst.AugAssign) and isinstance(small.target, cst.Name):
                    found.setdefault(small.target.value, []).append(small.value)
        elif isinstance(stmt, cst.For):
            for name in target_names(stmt.target):
                found.setdefault(name, []).extend([stmt.iter, stmt.iter])
    return found


def augmented_to_binary(small: cst.AugAssign) -> cst.Assign | None:
    """`h += x` -> `h = h + x` (the right side in parentheses when it is not an atom)."""
    operator = _AUG_OPERATORS.get(type(small.operator))
    if operator is None or not isinstance(small.target, cst.Name):
        return None
    value = small.value
    if not isinstance(value, (cst.Name, cst.Attribute, cst.Call, cst.Subscript, cst.Integer, cst.Float)) and not value.lpar:
        value = value.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])
    return cst.Assign(
        targets=[cst.AssignTarget(small.target)],
        value=cst.BinaryOperation(small.target, operator(), value),
    )

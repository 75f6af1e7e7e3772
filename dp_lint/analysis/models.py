"""`nn.Module` classes of the project: their submodules, which own trainable parameters, which are frozen.

Everything is read from `__init__` (and the methods it calls) without running it:

    self.enc = nn.Sequential(nn.Linear(8, 8), nn.ReLU())     # container, trainable
    self.target = copy.deepcopy(self.enc)                     # same kind as self.enc
    self.target.requires_grad_(False)                         # frozen
    for p in self.head.parameters(): p.requires_grad = False  # frozen

When the source does not say (a module passed in as an argument, a factory from
another library), the answer is UNKNOWN, and rules only report with lower
confidence, or not at all.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from enum import Enum
from typing import Any, NamedTuple

import libcst as cst

from dp_lint.analysis import knowledge as tk
from dp_lint.analysis.constants import literal
from dp_lint.analysis.index import ClassInfo, FunctionInfo, ModuleInfo, ProjectIndex
from dp_lint.analysis.objects import ClassValue, Values, preset_call
from dp_lint.files.syntax import (
    argument,
    assignments_in,
    blocks,
    calls_in,
    dotted_name,
    enclosing,
    function_params,
    is_self,
    is_self_attribute,
    keyword_argument,
    last_name,
    target_names,
    unpacked,
    walk_statements,
)


class Tri(Enum):
    """A three-valued answer: YES, NO, or UNKNOWN (the source does not say)."""

    YES = "yes"
    NO = "no"
    UNKNOWN = "unknown"

    @staticmethod
    def any_of(values: Iterable[Tri]) -> Tri:
        values = list(values)
        if Tri.YES in values:
            return Tri.YES
        if Tri.UNKNOWN in values:
            return Tri.UNKNOWN
        return Tri.NO


class Condition(NamedTuple):
    """`if <test>:` around a construction: the module is built when `test` is `outcome`."""

    test: cst.BaseExpression
    outcome: bool


class BufferRegistration(NamedTuple):
    """`self.register_buffer(name, tensor)` in the `__init__` of `writer` (or a method it calls)."""

    name: str | None  # the buffer's name when literal
    call: cst.Call
    writer: ClassInfo
    conditions: tuple[Condition, ...]  # the if-tests around it
    # The buffer certainly holds a tensor (its value is a call, or a local name assigned one)
    # and is registered once `__init__` runs (not in a loop, which may run no round).
    certain: bool


class AttributeValue(NamedTuple):
    """`self.<attr> = <expr>` in the `__init__` of `writer` (the last one written wins)."""

    expr: cst.BaseExpression
    writer: ClassInfo


@dataclass(frozen=True)
class ModuleKind:
    """What a constructor expression builds."""

    description: str  # for messages: "nn.Linear", "Encoder", "a copy of self.online"
    owns_parameters: Tri
    certain_module: bool  # False: maybe not a module at all (an argument, a factory result)
    project_class: ClassInfo | None = None
    torch_class: str | None = None
    elements: tuple[ModuleKind, ...] = ()  # children of a container
    frozen: bool = False  # built frozen, e.g. `Net().requires_grad_(False)`
    call: cst.Call | None = field(default=None, compare=False)  # the construction call
    module: ModuleInfo | None = field(default=None, compare=False)  # where that call is written
    param: str | None = None  # for a module handed in: the constructor parameter's name
    # `if use_bn: layers.append(nn.BatchNorm1d(d))`: (test, outcome) pairs under which the
    # module is built; the layer tree skips it when a test resolves to the other outcome.
    conditions: tuple[Condition, ...] = field(default=(), compare=False)
    # Built by calling a value decided per instance (`norm_layer(c)`, `getattr(nn, rnn)(...)`,
    # `self.block_cls(...)`): the callee expression, evaluated by the layer tree.
    callee: cst.BaseExpression | None = field(default=None, compare=False)
    # The arguments the class really receives when they differ from `call`'s (a
    # `functools.partial`'s preset arguments added): read settings from here.
    preset: cst.Call | None = field(default=None, compare=False)
    # How the class was found when `call` does not name it ("the default of `norm_layer`",
    # "functools.partial", "a subclass of nn.LSTM"): fixes do not rewrite such calls.
    via: str | None = field(default=None, compare=False)
    # `call` is written in a function of its own (a factory, a classmethod): its arguments are
    # read where it is written, not in the scope of the module that holds the result.
    own_scope: bool = field(default=False, compare=False)
    external: bool = False  # built by a call into another library (torchvision, timm, ...)
    # A copy of what it was built from (`copy.deepcopy(model)`, `AveragedModel(model)`): another
    # object with the same structure, never the module handed in (`param` names what was copied).
    copied: bool = False

    @property
    def settings_call(self) -> cst.Call | None:
        """The call whose arguments the class receives (`preset`, else `call`)."""
        return self.preset if self.preset is not None else self.call


# For freeze loops: loop variable -> the module expressions whose parameters (or which
# modules themselves) it iterates over (`for p in self.x.parameters()` -> {"p": [self.x]}).
LoopBindings = dict[str, list[cst.BaseExpression]]

# Lower-case callables from other libraries whose result is probably a module.
_FACTORY_HINTS = ("model", "encoder", "backbone", "net", "pretrained", "build", "create", "resnet", "vit")


@dataclass(eq=False)
class Submodule:
    """One `self.<attr> = <module>` of an `__init__` (of `owner`, maybe a base class)."""

    attr: str
    owner: ClassInfo
    statement: cst.CSTNode  # the `self.x = ...` assignment, where findings are reported
    kind: ModuleKind
    alias_of: str | None = None  # `self.b = self.a`: the attribute it is another name for
    conditions: tuple[Condition, ...] = ()  # see ModuleKind.conditions

    @property
    def description(self) -> str:
        return self.kind.description


@dataclass(eq=False)
class ModuleClass:
    """An `nn.Module` subclass with everything its `__init__` (and base classes') declare."""

    cls: ClassInfo
    submodules: dict[str, Submodule] = field(default_factory=dict)
    frozen_attrs: set[str] = field(default_factory=set)
    freezes_everything: bool = False
    # A `requires_grad = False` that dp-lint could not attribute to a submodule: any
    # submodule may be frozen, so trainability findings are withheld.
    unattributed_freeze: bool = False
    direct_parameters: bool = False
    # `self.<name> = nn.Parameter(...)` attributes, except those built with `requires_grad=False`.
    parameter_attrs: set[str] = field(default_factory=set)
    # The if-tests around each `parameter_attrs` assignment (the last one written), and the
    # parameters assigned in a loop (which may run no round).
    parameter_conditions: dict[str, tuple[Condition, ...]] = field(default_factory=dict)
    parameters_in_loops: set[str] = field(default_factory=set)
    # `self.register_buffer(...)` calls of its `__init__` (None values left out).
    buffers: list[BufferRegistration] = field(default_factory=list)
    dynamic_attributes: bool = False  # setattr(self, ...), self.add_module(name, ...)
    # Submodules handed to a function of another library that may freeze them: unknown.
    maybe_frozen: set[str] = field(default_factory=set)
    # Every `self.x = <expr>` of __init__ (last one wins), with the class whose __init__ wrote it:
    # `self.batch_first = batch_first` is how layer settings travel from parameters.
    attribute_values: dict[str, AttributeValue] = field(default_factory=dict)
    # Every construction an attribute may hold: `if use_bn: self.norm = BatchNorm1d(d)` /
    # `else: self.norm = LayerNorm(d)` keeps both (with their conditions) for the layer tree;
    # `submodules` holds the last one written.
    variants: dict[str, list[Submodule]] = field(default_factory=dict)

    def is_frozen(self, attr: str) -> bool:
        sub = self.submodules.get(attr)
        return (
            self.freezes_everything
            or attr in self.frozen_attrs
            or attr in self.maybe_frozen
            or (sub is not None and sub.kind.frozen)
            or (sub is not None and sub.alias_of is not None and sub.alias_of in self.frozen_attrs)
        )


class ModuleModels:
    """Builds and caches `ModuleClass` for every project class that is an `nn.Module`."""

    def __init__(self, index: ProjectIndex) -> None:
        self.index = index
        self._external_freezes: ExternalFreezes | None = None
        self._models: dict[ClassInfo, ModuleClass] = {}
        self._is_module: dict[ClassInfo, bool] = {}
        self._owns: dict[ClassInfo, Tri] = {}
        self.values = Values(index)
        self._passed: dict[tuple[ClassInfo, str], ModuleKind | None] = {}
        self._passed_classes: dict[tuple[ClassInfo, str], ClassValue | None] = {}
        self._registry_reads: dict[str, bool] = {}
        self._constructions: dict[ClassInfo, list[tuple[ModuleInfo, cst.Call]]] = {}

    def frozen_elsewhere(self, cls: ClassInfo, attr: str) -> bool:
        """Is submodule `attr` of `cls` frozen (or maybe frozen) outside `cls`'s own code: in a
        training script, a helper, another class holding it? See `ExternalFreezes`."""
        if self._external_freezes is None:
            self._external_freezes = ExternalFreezes()  # a freeze walk reads models: no recursion
            self._external_freezes = collect_external_freezes(self.index, self)
        return self._external_freezes.covers(cls, attr)

    # -- classification ----------------------------------------------------------

    def is_module_class(self, cls: ClassInfo) -> bool:
        if cls not in self._is_module:
            self._is_module[cls] = False  # cycle guard
            self._is_module[cls] = any(
                tk.is_module_base(name)
                or (base is not None and self.is_module_class(base))
                for name, base in ((n, self.index.lookup_class(n)) for n in cls.base_names)
            )
        return self._is_module[cls]

    def module_classes(self) -> Iterator[ClassInfo]:
        return (cls for cls in self.index.classes() if self.is_module_class(cls))

    def model(self, cls: ClassInfo) -> ModuleClass:
        if cls not in self._models:
            model = ModuleClass(cls)
            self._models[cls] = model
            # Base classes first so that a subclass's assignment overrides.
            for owner in reversed(self.index.mro(cls)):
                _InitReader(self, model, owner).read()
            self._models[cls] = model
        return self._models[cls]

    def owns_parameters(self, cls: ClassInfo) -> Tri:
        """Does an instance of `cls` hold trainable parameters?"""
        if cls in self._owns:
            return self._owns[cls]
        self._owns[cls] = Tri.UNKNOWN  # cycle guard
        model = self.model(cls)
        if model.freezes_everything:
            result = Tri.NO
        elif model.direct_parameters:
            result = Tri.YES
        else:
            parts = [
                sub.kind.owns_parameters
                for attr, sub in model.submodules.items()
                if not model.is_frozen(attr)
            ]
            for name in self.index.external_bases(cls):
                torch_name = tk.torch_class_name(name)
                if name in tk.MODULE_BASES:
                    continue
                parts.append(_torch_layer_owns(torch_name, None) if torch_name else Tri.UNKNOWN)
            if model.dynamic_attributes or model.unattributed_freeze:
                parts.append(Tri.UNKNOWN)
            result = Tri.any_of(parts)
        self._owns[cls] = result
        return result

    # -- what an expression builds -----------------------------------------------

    def kind_of(self, module: ModuleInfo, expr: cst.BaseExpression, scope: _InitScope | None = None, depth: int = 0) -> ModuleKind | None:
        if depth > 8:
            return None
        if isinstance(expr, cst.Call):
            return self._kind_of_call(module, expr, scope, depth)
        if isinstance(expr, cst.Name) and scope is not None:
            if expr.value in scope.locals:
                return self.kind_of(module, scope.locals[expr.value], scope, depth + 1)
            if expr.value in scope.params:
                handed = ModuleKind(f"the constructor argument `{expr.value}`", Tri.UNKNOWN, False, param=expr.value)
                if scope.model is not None and scope.owner is scope.model.cls:
                    passed = self.passed_module(scope.model.cls, expr.value, depth)
                    if passed is not None:
                        return _replace(passed, param=expr.value,
                                        description=f"{passed.description} (passed as `{expr.value}`)")
                return handed
        if (isinstance(expr, cst.Attribute) and isinstance(expr.value, cst.Name) and expr.value.value == "self"
                and scope is not None and scope.model is not None):
            sub = scope.model.submodules.get(expr.attr.value)
            if sub is not None:
                return sub.kind
        return None

    def _kind_of_call(self, module: ModuleInfo, call: cst.Call, scope: _InitScope | None, depth: int) -> ModuleKind | None:
        func = call.func
        # Chained calls that return the same module: .to(device), .eval(), .requires_grad_(False)
        if isinstance(func, cst.Attribute) and isinstance(func.value, cst.Call | cst.Name | cst.Attribute):
            method = func.attr.value
            if method in {"to", "cuda", "cpu", "eval", "train", "float", "half", "double", "requires_grad_"}:
                inner = self.kind_of(module, func.value, scope, depth + 1)
                if inner is not None and method == "requires_grad_" and _first_arg_is_false(call):
                    return _replace(inner, frozen=True)
                if inner is not None:
                    return inner
        valued = self._class_value_kind(module, call, scope, depth)
        if valued is not None:
            return valued
        qualname = module.resolve_expr(func)
        if qualname is None:
            return None
        return self._kind_of_qualname(module, call, qualname, scope, depth)

    def passed_module(self, cls: ClassInfo, param: str, depth: int = 0) -> ModuleKind | None:
        """The module every construction of `cls` in the project passes for `__init__` parameter
        `param` (`Distill(teacher)` with `teacher = Teacher()` in the script), read where each
        construction is written; None when a construction passes something else, nothing, or
        `*args`, or when the scope that builds it may freeze it (it mentions requires_grad or
        freeze: the freeze is then for the freeze analysis to judge, not assumed away)."""
        key = (cls, param)
        if key in self._passed:
            return self._passed[key]
        self._passed[key] = None  # cycle guard
        init = cls.methods.get("__init__")
        if init is None or depth > 6:
            return None
        positional = [p.name.value for p in (*init.node.params.posonly_params, *init.node.params.params)][1:]
        position = positional.index(param) if param in positional else None
        kinds: list[ModuleKind] = []
        for module, call in self.constructions(cls):
            value = argument(call, param, position)
            if value is None or any(a.star for a in call.args):
                return None
            function = enclosing(module.file.parents.get(call), module.file.parents, cst.FunctionDef)
            holder: cst.CSTNode = function if function is not None else module.file.module
            code = cst.Module([]).code_for_node(holder) if function is not None else module.file.text
            if may_change_requires_grad(code):
                return None
            body = _function_body(function) if function is not None else module.file.module.body
            site = _InitScope(None, {p.name.value for p in function_params(function)} if function is not None else set())
            for name, values in assignments_in(body).items():
                if len(values) == 1:
                    site.locals[name] = values[0]
                else:
                    site.params.add(name)  # assigned more than once: not followed
            kind = self.kind_of(module, value, site, depth + 1)
            if kind is None or kind.param is not None or not (kind.project_class or kind.torch_class or (
                    kind.certain_module and kind.owns_parameters is not Tri.UNKNOWN)):
                return None
            kinds.append(kind)
        if not kinds or len({(k.project_class, k.torch_class, k.owns_parameters, k.frozen) for k in kinds}) != 1:
            return None
        self._passed[key] = kinds[0]
        return kinds[0]

    def passed_class(self, cls: ClassInfo, param: str) -> ClassValue | None:
        """The module class every construction of `cls` passes for `__init__` parameter `param`
        (or that its default names, where a construction leaves it out): `MoCo(ResNet, dim=128)`.
        None when one construction passes something else or unknown, `*args`/`**kwargs`, or when
        the project never constructs `cls` (then any caller may pass anything)."""
        key = (cls, param)
        if key in self._passed_classes:
            return self._passed_classes[key]
        self._passed_classes[key] = None  # cycle guard
        init = cls.methods.get("__init__")
        if init is None:
            return None
        positional = [p.name.value for p in (*init.node.params.posonly_params, *init.node.params.params)][1:]
        position = positional.index(param) if param in positional else None
        declared = next((p for p in function_params(init.node) if p.name.value == param), None)
        found: list[ClassValue] = []
        constructions = self.constructions(cls)
        for module, call in constructions:
            if any(a.star for a in call.args):
                return None
            value = argument(call, param, position)
            if value is not None:
                passed = self.values.at(module, call).evaluate(value)
            elif declared is not None and declared.default is not None:
                passed = self.values.scope(cls.module, None).evaluate(declared.default)
            else:
                return None
            if not isinstance(passed, ClassValue):
                return None
            if passed.cls is not None and not self.is_module_class(passed.cls):
                return None
            found.append(passed)
        if not found or any(value != found[0] for value in found):
            return None
        result = found[0]
        self._passed_classes[key] = result
        return result

    def constructions(self, cls: ClassInfo) -> list[tuple[ModuleInfo, cst.Call]]:
        """Every call in the project that constructs `cls` (only files naming it are read)."""
        if cls not in self._constructions:
            found = []
            for module in self.index.by_file.values():
                if cls.name not in module.file.text:
                    continue
                for call in calls_in(module.file.module):
                    name = dotted_name(call.func)
                    if name is None or name.rsplit(".", 1)[-1] != cls.name:
                        continue
                    qualname = module.resolve_expr(call.func)
                    if qualname is not None and self.index.lookup_class(qualname) is cls:
                        found.append((module, call))
            self._constructions[cls] = found
        return self._constructions[cls]

    def _class_value_kind(self, module: ModuleInfo, call: cst.Call, scope: _InitScope | None,
                          depth: int) -> ModuleKind | None:
        """A call of a class held in a value: `norm_layer(c)` (a parameter whose default, or
        whose argument, is a class), `getattr(nn, name)(...)`, `MODELS[key](...)`,
        `Block(...)` where `Block = partial(nn.LSTM, ...)`."""
        func = call.func
        dynamic = isinstance(func, (cst.Subscript, cst.IfExp)) or (
            isinstance(func, cst.Call) and dotted_name(func.func) in {"getattr", "partial", "functools.partial"})
        if scope is not None and scope.model is not None:
            per_instance = dynamic
            if isinstance(func, cst.Name):
                if func.value in scope.params:
                    passed = self.passed_class(scope.model.cls, func.value) if scope.owner is scope.model.cls else None
                    if passed is not None:
                        # `MoCo(ResNet, dim=128)` whose `__init__` builds `base_encoder(num_classes=dim)`.
                        return self.kind_for_class(passed, module, call, scope, depth,
                                                   via=f"the class passed as `{func.value}`")
                    per_instance = True
                elif func.value in scope.locals:
                    per_instance = self.kind_of(module, scope.locals[func.value], scope, depth + 1) is None
            elif isinstance(func, cst.Attribute) and _root_name(func) in scope.params:
                # `cfg.norm_layer(c)`: a class held by a config the constructor receives
                per_instance = True
            elif (is_self_attribute(func) and func.attr.value in scope.model.attribute_values
                  and func.attr.value not in scope.model.submodules
                  and self.index.find_method(scope.model.cls, func.attr.value) is None):
                per_instance = True
            if per_instance:
                code = cst.Module([]).code_for_node(func)
                owns = self._registry_owns(module, func, call, scope, depth)
                # Every class of the registry owns parameters (or none does): a module whichever
                # key the instance gets; the layer tree still evaluates the key per instance.
                return ModuleKind(f"`{code}(...)`", owns, owns is not Tri.UNKNOWN, call=call, module=module,
                                  callee=func)
        if dynamic or (isinstance(func, cst.Name) and func.value in module.assignments
                       and func.value not in module.classes and func.value not in module.functions):
            value = self.values.at(module, call).evaluate(func)
            if isinstance(value, ClassValue):
                return self.kind_for_class(value, module, call, scope, depth)
            # `ARCHS[arch](**kwargs)` in a factory whose key is not known here: a module either
            # way when every class of the registry agrees on owning parameters.
            owns = self._registry_owns(module, func, call, scope, depth)
            if owns is not Tri.UNKNOWN:
                code = cst.Module([]).code_for_node(func)
                return ModuleKind(f"`{code}(...)`", owns, True, call=call, module=module, callee=func)
        return None

    def _registry_owns(self, module: ModuleInfo, func: cst.BaseExpression, call: cst.Call,
                       scope: _InitScope | None, depth: int) -> Tri:
        """For `NETWORKS[name](...)` with a key known per instance only: YES (NO) when every class
        of the module-level registry `NETWORKS = {"a": A, ...}` owns (does not own) parameters.
        UNKNOWN when it is not such a registry, or when any code may add to it (a decorator,
        `NETWORKS[k] = cls`, `.update(...)`, the dict handed to a call): then the key may name a
        class dp-lint does not see."""
        if not (isinstance(func, cst.Subscript) and isinstance(func.value, cst.Name)):
            return Tri.UNKNOWN
        name = func.value.value
        if scope is not None and (name in scope.locals or name in scope.params):
            return Tri.UNKNOWN
        registry = self.values.at(module, call).evaluate(func.value)
        if not isinstance(registry, dict) or not registry or not self._only_read(name):
            return Tri.UNKNOWN
        answers: list[Tri] = []
        for value in registry.values():
            if not isinstance(value, ClassValue):
                return Tri.UNKNOWN
            kind = self.kind_for_class(value, module, call, scope, depth + 1)
            if kind is None or not kind.certain_module:
                return Tri.UNKNOWN
            answers.append(kind.owns_parameters)
        return answers[0] if all(answer is answers[0] for answer in answers) else Tri.UNKNOWN

    def _only_read(self, name: str) -> bool:
        """Is the module-level dict `name` only defined, imported and indexed (`name[key]`) in the
        project's source: never written, updated or handed on?"""
        if name in self._registry_reads:
            return self._registry_reads[name]
        pattern = re.compile(rf"\b{re.escape(name)}\b")
        read = True
        for info in self.index.by_file.values():
            text = info.file.text
            if name not in text:
                continue
            for line in text.splitlines():
                stripped = line.strip()
                if stripped.startswith(("from ", "import ")) or stripped.startswith("#"):
                    continue
                for match in pattern.finditer(line):
                    rest = line[match.end():].lstrip()
                    before = line[:match.start()].strip()
                    if not before and re.match(r"(:[^=]*)?=(?!=)", rest):
                        continue  # its definition, `NAME = {...}`
                    if rest.startswith("[") and not re.match(r"\[[^\]]*\]\s*=(?!=)", rest):
                        continue  # read by key
                    if rest.startswith((".keys(", ".get(", ".items(", ".values(")) or re.search(
                            r"(\bin|\b(sorted|list|tuple|set|len)\()$", before):
                        continue  # `arch in ARCHS`, `sorted(ARCHS)`, `ARCHS.get(arch)`: read
                    read = False
        self._registry_reads[name] = read
        return read

    def kind_for_class(self, value: ClassValue, module: ModuleInfo, call: cst.Call, scope: _InitScope | None = None,
                       depth: int = 0, via: str | None = None) -> ModuleKind | None:
        """What `call` builds when its callee is the class `value` (found through a value)."""
        settings = preset_call(call, value.preset)
        kind = self._kind_of_qualname(module, settings, value.qualname, scope, depth + 1)
        if kind is None:
            return None
        description = via or value.via or "a class value"
        return _replace(kind, call=call, preset=settings if settings is not call else None,
                        via=description)

    def _kind_of_qualname(self, module: ModuleInfo, call: cst.Call, qualname: str, scope: _InitScope | None,
                          depth: int) -> ModuleKind | None:
        if qualname in {"copy.deepcopy", "deepcopy", "copy.copy"} and call.args:
            inner = self.kind_of(module, call.args[0].value, scope, depth + 1)
            if inner is None:
                return None
            source = dotted_name(call.args[0].value) or "a module"
            return _replace(inner, description=f"a copy of {source}", copied=True)
        torch_name = tk.torch_class_name(qualname)
        if torch_name is not None:
            if torch_name in {"Parameter", "UninitializedParameter", "Buffer"}:
                return None
            if torch_name in tk.CLONING_CONTAINERS and call.args:
                # nn.TransformerEncoder(layer, num_layers): copies of `layer`.
                inner = self.kind_of(module, call.args[0].value, scope, depth + 1)
                elements: tuple[ModuleKind, ...] = (inner,) if inner is not None else ()
                return ModuleKind(f"nn.{torch_name}", inner.owns_parameters if inner else Tri.UNKNOWN, True,
                                  torch_class=torch_name, elements=elements, call=call, module=module)
            if torch_name in tk.CONTAINERS:
                found = list(self._container_elements(module, call, scope, depth))
                elements = tuple(k for k in found if k is not None)
                # An element dp-lint cannot see into, or an empty container filled later.
                unseen = [Tri.UNKNOWN] if len(elements) < len(found) or not found else []
                owns = Tri.any_of([e.owns_parameters for e in elements] + unseen)
                return ModuleKind(f"nn.{torch_name}", owns, True, torch_class=torch_name, elements=elements,
                                  call=call, module=module)
            return ModuleKind(
                f"nn.{torch_name}" if qualname.startswith("torch.") else torch_name,
                _torch_layer_owns(torch_name, call),
                True,
                torch_class=torch_name,
                call=call,
                module=module,
            )
        cls = self.index.lookup_class(qualname)
        if cls is not None:
            if not self.is_module_class(cls):
                return None
            owns = self.owns_parameters(cls)
            if owns is Tri.UNKNOWN:
                # `Wrapper(Backbone(), Head())`: modules handed to the constructor become its
                # submodules, so their parameters are the wrapper's.
                handed = [self.kind_of(module, arg.value, scope, depth + 1) for arg in call.args]
                model = self.model(cls)
                # Unless the class freezes what it holds (an EMA wrapper freezing its copy).
                freezes = (model.freezes_everything or model.unattributed_freeze or bool(model.frozen_attrs)
                           or bool(model.maybe_frozen) or any(sub.kind.frozen for sub in model.submodules.values()))
                if not freezes and any(k is not None and k.owns_parameters is Tri.YES and not k.frozen for k in handed):
                    owns = Tri.YES
            return ModuleKind(cls.name, owns, True, project_class=cls, call=call, module=module)
        function = self.index.lookup_function(qualname)
        if function is not None:
            return self._kind_of_factory(function, depth)
        if qualname.endswith("swa_utils.AveragedModel") and call.args:
            # A trainable copy of the model it averages (its parameters require grad).
            inner = self.kind_of(module, call.args[0].value, scope, depth + 1)
            if inner is not None:
                source = dotted_name(call.args[0].value) or "a module"
                return _replace(inner, description=f"an AveragedModel copy of {source}", copied=True)
            return ModuleKind("`AveragedModel(...)`", Tri.UNKNOWN, False)
        factory = self._classmethod_factory(qualname, depth)
        if factory is not None:
            return factory
        # A call into another library (torchvision.models.resnet18(), timm.create_model(...)):
        # maybe a module, maybe not; rules treat it as unknown.
        known = tk.external_module_owns_parameters(qualname)
        if known is not None:  # the knowledge tables (torchvision transforms and models)
            return ModuleKind(f"`{qualname}(...)`", Tri.YES if known else Tri.NO, True, external=True)
        last = qualname.rsplit(".", 1)[-1]
        if last[:1].isupper() or any(hint in last.lower() for hint in _FACTORY_HINTS):
            return ModuleKind(f"`{qualname}(...)`", Tri.UNKNOWN, False, external=True)
        return None

    def classmethod_construction(self, qualname: str) -> tuple[ClassInfo, cst.Call] | None:
        """`Backbone.from_vit` (a classmethod whose single kind of return is `cls(...)`, or a
        staticmethod returning `Backbone(...)`): the class and that construction call."""
        head, _, name = qualname.rpartition(".")
        cls = self.index.lookup_class(head) if head else None
        if cls is None:
            return None
        found = self.index.find_method(cls, name)
        if found is None:
            return None
        _, method = found
        decorators = {dotted_name(d.decorator) for d in method.node.decorators}
        params = [p.name.value for p in method.params]
        calls: list[cst.Call] = []
        for returned in _returns(method.node):
            if not isinstance(returned, cst.Call):
                return None
            callee = dotted_name(returned.func)
            if "classmethod" in decorators and params and callee == params[0]:
                calls.append(returned)
            elif "staticmethod" in decorators and callee and method.module.resolve_expr(returned.func) == cls.qualname:
                calls.append(returned)
            else:
                return None
        if len(calls) != 1 or not self.is_module_class(cls):
            return None
        return cls, calls[0]

    def _classmethod_factory(self, qualname: str, depth: int) -> ModuleKind | None:
        found = self.classmethod_construction(qualname)
        if found is None:
            return None
        cls, call = found
        return ModuleKind(cls.name, self.owns_parameters(cls), True, project_class=cls, call=call, module=cls.module,
                          via=f"{qualname.rsplit('.', 2)[-2]}.{qualname.rsplit('.', 1)[-1]}()", own_scope=True)

    def _kind_of_factory(self, function: FunctionInfo, depth: int) -> ModuleKind | None:
        scope = _InitScope.for_function(self, function)
        returned = [self.kind_of(function.module, r, scope, depth + 1) for r in _returns(function.node)]
        kinds = [k for k in returned if k is not None]
        if not kinds:
            return None
        first = kinds[0]
        frozen = _mentions_freeze(function.node)
        return _replace(
            first,
            description=f"{first.description} from {function.name}()",
            owns_parameters=Tri.any_of(k.owns_parameters for k in kinds),
            frozen=first.frozen or frozen,
        )

    def _container_element_exprs(self, call: cst.Call) -> Iterator[cst.BaseExpression]:
        for arg in call.args:
            if arg.keyword is not None:
                continue
            yield arg.value

    def _container_elements(self, module: ModuleInfo, call: cst.Call, scope: _InitScope | None,
                            depth: int) -> Iterator[ModuleKind | None]:
        for value in self._container_element_exprs(call):
            yield from self._elements_of(module, value, scope, depth)

    def _elements_of(self, module: ModuleInfo, value: cst.BaseExpression, scope: _InitScope | None,
                     depth: int) -> Iterator[ModuleKind | None]:
        if isinstance(value, (cst.List, cst.Tuple, cst.Set)):
            for element in value.elements:
                if isinstance(element, cst.StarredElement):
                    yield from self._elements_of(module, element.value, scope, depth)
                else:
                    yield self.kind_of(module, element.value, scope, depth + 1)
        elif isinstance(value, (cst.ListComp, cst.GeneratorExp)):
            yield self.kind_of(module, value.elt, scope, depth + 1)
        elif isinstance(value, cst.Dict):
            for entry in value.elements:
                if isinstance(entry, cst.DictElement):
                    yield self.kind_of(module, entry.value, scope, depth + 1)
        elif isinstance(value, cst.DictComp):
            yield self.kind_of(module, value.value, scope, depth + 1)
        elif isinstance(value, cst.Call) and dotted_name(value.func) in {"OrderedDict", "collections.OrderedDict", "dict"}:
            for arg in value.args:
                yield from self._elements_of(module, arg.value, scope, depth)
        elif isinstance(value, cst.Name) and scope is not None and value.value in scope.list_elements:
            for holder, conditions in scope.list_elements[value.value]:
                for kind in self._elements_of(module, holder, scope, depth + 1):
                    yield _replace(kind, conditions=kind.conditions + conditions) if kind is not None and conditions else kind
        elif isinstance(value, cst.Call) or isinstance(value, cst.Attribute):
            yield self.kind_of(module, value, scope, depth + 1)
        else:
            yield None  # something dp-lint cannot see into


def _function_body(node: cst.FunctionDef) -> Sequence[cst.BaseStatement]:
    return node.body.body if isinstance(node.body, cst.IndentedBlock) else []


def _replace(kind: ModuleKind, **changes: Any) -> ModuleKind:
    return replace(kind, **changes)


def _first_arg_is_false(call: cst.Call) -> bool:
    if not call.args:
        return False
    return literal(call.args[0].value, None) is False


def torch_layer_owns(name: str | None, call: cst.Call | None) -> Tri:
    """Does the torch/opacus layer `name`, built by `call`, own trainable parameters?"""
    return _torch_layer_owns(name, call)


def _torch_layer_owns(name: str | None, call: cst.Call | None) -> Tri:
    if name is None:
        return Tri.UNKNOWN
    if name in tk.PARAMETER_FREE_LAYERS:
        return Tri.NO
    if name in tk.AFFINE_DEFAULT_OFF:
        value = keyword_argument(call, "affine")
        if value is None or literal(value, None) is False:
            return Tri.NO
        return Tri.YES if literal(value, None) is True else Tri.UNKNOWN
    if name in tk.LAYERS_WITH_PARAMETERS:
        keyword = tk.AFFINE_KEYWORD.get(name)
        value = keyword_argument(call, keyword) if keyword else None
        if value is None or literal(value, None) is True:
            return Tri.YES
        if literal(value, None) is False:
            return Tri.NO
        return Tri.UNKNOWN
    return Tri.UNKNOWN


def _returns(node: cst.FunctionDef) -> Iterator[cst.BaseExpression]:
    for stmt in walk_statements(node.body.body if isinstance(node.body, cst.IndentedBlock) else []):
        if isinstance(stmt, cst.SimpleStatementLine):
            for small in stmt.body:
                if isinstance(small, cst.Return) and small.value is not None:
                    yield small.value


def may_change_requires_grad(code: str) -> bool:
    """Might `code` freeze or unfreeze something? It mentions `requires_grad` or a freeze (`freeze_backbone()`,
    `model.Freeze()`): a cheap, conservative test before reading (or instead of reading) the code."""
    return "requires_grad" in code or "freeze" in code.lower()


def _mentions_freeze(node: cst.CSTNode) -> bool:
    code = cst.Module(body=[]).code_for_node(node)
    return "requires_grad = False" in code or "requires_grad_(False)" in code or "requires_grad=False" in code


@dataclass
class _InitScope:
    """Local names of an `__init__` (or a factory function) while reading it top to bottom."""

    model: ModuleClass | None
    params: set[str]
    locals: dict[str, cst.BaseExpression] = field(default_factory=dict)
    # name -> [(expression holding elements, conditions under which they were added)]
    list_elements: dict[str, list[tuple[cst.BaseExpression, tuple[Condition, ...]]]] = field(default_factory=dict)
    conditions: tuple[Condition, ...] = ()  # the if-tests around the statement being read
    owner: ClassInfo | None = None  # the class whose __init__ this is (None: a factory, a helper)

    @staticmethod
    def for_function(models: ModuleModels, function: FunctionInfo) -> _InitScope:
        scope = _InitScope(None, {p.name.value for p in function.params})
        for stmt in walk_statements(function.node.body.body if isinstance(function.node.body, cst.IndentedBlock) else []):
            if isinstance(stmt, cst.SimpleStatementLine):
                for small in stmt.body:
                    scope.record_local(small)
        return scope

    def record_local(self, small: cst.BaseSmallStatement) -> None:
        if isinstance(small, (cst.Assign, cst.AnnAssign)) and small.value is not None:
            targets = small.targets if isinstance(small, cst.Assign) else [small]
            for target in targets:
                if isinstance(target.target, cst.Name):
                    name = target.target.value
                    self.locals[name] = small.value
                    self.params.discard(name)
                    if isinstance(small.value, (cst.List, cst.ListComp, cst.Tuple)):
                        self.list_elements[name] = [(small.value, self.conditions)]
        elif isinstance(small, cst.AugAssign) and isinstance(small.target, cst.Name):
            self.list_elements.setdefault(small.target.value, []).append((small.value, self.conditions))
        elif isinstance(small, cst.Expr) and isinstance(small.value, cst.Call):
            func = small.value.func
            if (
                isinstance(func, cst.Attribute)
                and isinstance(func.value, cst.Name)
                and func.attr.value in {"append", "extend", "insert"}
                and small.value.args
            ):
                value = small.value.args[-1].value
                if func.attr.value == "extend":
                    self.list_elements.setdefault(func.value.value, []).append((value, self.conditions))
                else:
                    element = cst.List([cst.Element(value)])
                    self.list_elements.setdefault(func.value.value, []).append((element, self.conditions))


class _InitReader:
    """Reads one class's `__init__` (and the `self.` methods it calls) into a ModuleClass."""

    def __init__(self, models: ModuleModels, model: ModuleClass, owner: ClassInfo) -> None:
        self.models = models
        self.model = model
        self.owner = owner
        self.module = owner.module
        self._visited: set[str] = set()

    def read(self) -> None:
        init = self.owner.methods.get("__init__")
        if init is not None:
            scope = _InitScope(self.model, {p.name.value for p in init.params} - {"self"}, owner=self.owner)
            self._read_body(init.node.body, scope, loop_bindings={})
        # Freezing can also happen in any other method (`def freeze_teacher(self)`), which
        # the training script may call: it counts as frozen too. Files that never mention
        # requires_grad cannot freeze anything, so they are not read further.
        if "requires_grad" not in self.module.file.text:
            return
        for name, method in self.owner.methods.items():
            if name != "__init__" and name not in self._visited:
                scope = _InitScope(self.model, {p.name.value for p in method.params} - {"self"})
                self._read_body(method.node.body, scope, loop_bindings={}, freezes_only=True)

    def _read_body(self, suite: cst.BaseSuite | _Block, scope: _InitScope, loop_bindings: LoopBindings,
                   freezes_only: bool = False) -> None:
        body = suite.body if isinstance(suite, cst.IndentedBlock) else (suite.body if hasattr(suite, "body") else [])
        for stmt in body:
            if isinstance(stmt, cst.SimpleStatementLine):
                for small in stmt.body:
                    self._small(small, scope, loop_bindings, freezes_only)
            elif isinstance(stmt, cst.For):
                bindings = dict(loop_bindings)
                bindings.update(self._loop_bindings(stmt, loop_bindings))
                self._read_body(stmt.body, scope, bindings, freezes_only)
            elif isinstance(stmt, (cst.FunctionDef, cst.ClassDef)):
                continue
            elif isinstance(stmt, cst.If):
                outer = scope.conditions
                scope.conditions = outer + (Condition(stmt.test, True),)
                self._read_body(stmt.body, scope, loop_bindings, freezes_only)
                scope.conditions = outer + (Condition(stmt.test, False),)
                if isinstance(stmt.orelse, cst.Else):
                    self._read_body(stmt.orelse.body, scope, loop_bindings, freezes_only)
                elif isinstance(stmt.orelse, cst.If):
                    self._read_body(_Block([stmt.orelse]), scope, loop_bindings, freezes_only)
                scope.conditions = outer
            else:
                for block in blocks(stmt):
                    self._read_body(_Block(block), scope, loop_bindings, freezes_only)

    def _small(self, small: cst.BaseSmallStatement, scope: _InitScope, loop_bindings: LoopBindings,
               freezes_only: bool) -> None:
        if isinstance(small, (cst.Assign, cst.AnnAssign)):
            targets = small.targets if isinstance(small, cst.Assign) else [small]
            for target in targets:
                self._assignment(target.target, small.value, small, scope, loop_bindings, freezes_only)
            if not freezes_only:
                scope.record_local(small)
        elif isinstance(small, cst.AugAssign):
            scope.record_local(small)
        elif isinstance(small, cst.Expr) and isinstance(small.value, cst.Call):
            self._call_statement(small.value, scope, loop_bindings, freezes_only)
            if not freezes_only:
                scope.record_local(small)

    def _assignment(self, target: cst.BaseExpression, value: cst.BaseExpression | None, statement: cst.CSTNode,
                    scope: _InitScope, loop_bindings: LoopBindings, freezes_only: bool) -> None:
        if value is None:
            return
        if isinstance(target, cst.Attribute) and target.attr.value == "requires_grad":
            self._freeze_target(target.value, value, loop_bindings, scope)
            return
        if isinstance(target, (cst.Tuple, cst.List)) and isinstance(value, (cst.Tuple, cst.List)):
            for t, v in zip(target.elements, value.elements):
                self._assignment(t.value, v.value, statement, scope, loop_bindings, freezes_only)
            return
        if freezes_only:
            return
        if is_self_attribute(target):
            attr = target.attr.value
            self.model.attribute_values[attr] = AttributeValue(value, self.owner)
            torch_param = self.module.resolve_expr(value.func) if isinstance(value, cst.Call) else None
            if torch_param and tk.torch_class_name(torch_param) in {"Parameter", "UninitializedParameter"}:
                self.model.direct_parameters = True
                assert isinstance(value, cst.Call)
                if not _built_frozen_parameter(value):
                    self.model.parameter_attrs.add(attr)
                    self.model.parameter_conditions[attr] = scope.conditions
                    if loop_bindings:
                        self.model.parameters_in_loops.add(attr)
                return
            if is_self_attribute(value) and value.attr.value in self.model.submodules:
                source = self.model.submodules[value.attr.value]
                self.model.submodules[attr] = Submodule(attr, self.owner, statement, source.kind, alias_of=source.attr)
                return
            kind = self.models.kind_of(self.module, value, scope)
            if not scope.conditions:
                self.model.variants.pop(attr, None)
            if kind is not None:
                sub = Submodule(attr, self.owner, statement, kind, conditions=scope.conditions)
                self.model.submodules[attr] = sub
                self.model.variants.setdefault(attr, []).append(sub)
            elif not scope.conditions:
                self.model.submodules.pop(attr, None)

    def _call_statement(self, call: cst.Call, scope: _InitScope, loop_bindings: LoopBindings, freezes_only: bool) -> None:
        func = call.func
        if isinstance(func, cst.Attribute):
            method = func.attr.value
            receiver = func.value
            if method == "requires_grad_":
                if _requires_grad_value(call) is False:
                    self._freeze_receiver(receiver, loop_bindings)
                return
            if method in {"register_parameter"}:
                self.model.direct_parameters = True
                return
            if method == "register_buffer" and is_self(receiver):
                if not freezes_only:
                    self._buffer(call, scope, loop_bindings)
                return
            if method in {"add_module", "register_module"}:
                self.model.dynamic_attributes = True
                return
            if is_self(receiver) and method in self.owner.methods and method not in self._visited and not freezes_only:
                # `self._build_target()` from __init__: read it as part of __init__.
                self._visited.add(method)
                helper = self.owner.methods[method]
                inner = _InitScope(self.model, {p.name.value for p in helper.params} - {"self"})
                self._read_body(helper.node.body, inner, loop_bindings={})
                return
        name = dotted_name(func)
        if name == "setattr":
            self.model.dynamic_attributes = True
            return
        qualname = self.module.resolve_expr(func) if name else None
        function = self.models.index.lookup_function(qualname) if qualname else None
        if function is not None:
            self._helper_freeze(function, call, loop_bindings)
        elif qualname and name and name.partition(".")[0] in self.module.imports:
            self._external_freeze(qualname, call, loop_bindings)

    def _buffer(self, call: cst.Call, scope: _InitScope, loop_bindings: LoopBindings) -> None:
        name_arg = argument(call, "name", 0)
        tensor = argument(call, "tensor", 1)
        if tensor is None or (isinstance(tensor, cst.Name) and tensor.value == "None"):
            return  # `register_buffer("x", None)`: Opacus sees no buffer
        value = scope.locals.get(tensor.value) if isinstance(tensor, cst.Name) else tensor
        name = name_arg.evaluated_value if isinstance(name_arg, cst.SimpleString) else None
        certain = isinstance(value, cst.Call) and not loop_bindings
        self.model.buffers.append(BufferRegistration(name if isinstance(name, str) else None, call, self.owner,
                                                     scope.conditions, certain))

    def _helper_hands_on(self, function: FunctionInfo, call: cst.Call) -> None:
        """A project helper that hands its module argument to another library's function
        (which may freeze it): the submodule passed to the helper is unknown."""
        params = [p.name.value for p in function.params]
        args = _bind_arguments(params, call)
        for inner in calls_in(function.node):
            name = dotted_name(inner.func)
            if not name or name.partition(".")[0] not in function.module.imports:
                continue
            qualname = function.module.resolve_expr(inner.func)
            if not qualname or not (tk.may_freeze_argument(qualname) or tk.external_freeze_position(qualname) is not None):
                continue
            for arg in inner.args:
                given = args.get(arg.value.value) if isinstance(arg.value, cst.Name) else None
                module = _parameters_owner(given) if given is not None else None
                if is_self_attribute(module):
                    self.model.maybe_frozen.add(module.attr.value)

    def _external_freeze(self, qualname: str, call: cst.Call, loop_bindings: LoopBindings) -> None:
        """`deactivate_requires_grad(self.momentum_encoder)` (a known freeze helper of another
        library) freezes; a submodule handed to any other library function may be frozen there."""
        positional = [a.value for a in call.args if a.keyword is None and not a.star]
        position = tk.external_freeze_position(qualname)
        if position is not None:
            if len(positional) > position:
                self._freeze_receiver(positional[position], loop_bindings)
            return
        if not tk.may_freeze_argument(qualname):
            return
        for arg in call.args:
            module = _parameters_owner(arg.value)
            if is_self_attribute(module):
                self.model.maybe_frozen.add(module.attr.value)

    def _helper_freeze(self, function: FunctionInfo, call: cst.Call, loop_bindings: LoopBindings) -> None:
        """`set_requires_grad(self.target, False)` / `freeze(self.teacher)` via a project helper."""
        effect = helper_freeze_effect(function)
        if effect is None:
            self._helper_hands_on(function, call)
            return
        module_param, value_param = effect
        params = [p.name.value for p in function.params]
        args = _bind_arguments(params, call)
        receiver = args.get(module_param)
        if receiver is None:
            return
        if value_param is not None:
            value = args.get(value_param)
            if value is None:
                default = next((p.default for p in function.params if p.name.value == value_param), None)
                value = default
            if literal(value, None) is not False:
                if literal(value, None) is not True:
                    self.model.unattributed_freeze = True
                return
        self._freeze_receiver(receiver, loop_bindings)

    def _freeze_target(self, param_expr: cst.BaseExpression, value: cst.BaseExpression, loop_bindings: LoopBindings,
                       scope: _InitScope) -> None:
        """`p.requires_grad = False` where `p` iterates over some module's parameters."""
        if literal(value, None) is True:
            return
        is_false = literal(value, None) is False
        owners = loop_bindings.get(dotted_name(param_expr) or "", None) if isinstance(param_expr, cst.Name) else None
        if not is_false or owners is None:
            if is_self_attribute(param_expr.value if isinstance(param_expr, cst.Attribute) else param_expr):
                # `self.enc.weight.requires_grad = False`: a partial freeze.
                self.model.unattributed_freeze = True
            else:
                self.model.unattributed_freeze = True
            return
        for owner in owners:
            self._freeze_receiver(owner, loop_bindings)

    def _freeze_receiver(self, receiver: cst.BaseExpression, loop_bindings: LoopBindings) -> None:
        receiver = _parameters_owner(receiver)  # `freeze(self.vae.parameters())` freezes self.vae
        if is_self(receiver):
            self.model.freezes_everything = True
        elif is_self_attribute(receiver):
            self.model.frozen_attrs.add(receiver.attr.value)
        elif isinstance(receiver, cst.Name) and receiver.value in loop_bindings:
            for owner in loop_bindings[receiver.value]:
                self._freeze_receiver(owner, loop_bindings)
        else:
            self.model.unattributed_freeze = True

    def _loop_bindings(self, stmt: cst.For, outer: LoopBindings) -> LoopBindings:
        """Which module(s) each loop variable iterates over, for freeze loops."""
        return _bind_loop_target(stmt.target, stmt.iter, outer)


def _parameters_owner(expr: cst.BaseExpression) -> cst.BaseExpression:
    """`self.vae` for `self.vae.parameters()` (or named_parameters/modules/children); else `expr`."""
    if isinstance(expr, cst.Call) and isinstance(expr.func, cst.Attribute) and \
            expr.func.attr.value in {"parameters", "named_parameters", "modules", "children"}:
        return expr.func.value
    return expr


@dataclass
class _Block:
    body: Sequence[cst.BaseStatement]


def _bind_loop_target(target: cst.BaseExpression, iterable: cst.BaseExpression, outer: LoopBindings) -> LoopBindings:
    """`for p in self.x.parameters()` -> {"p": [self.x]}; zip/chain/list literals handled."""
    sources = _parameter_sources(iterable, outer)
    bindings: LoopBindings = {}
    if isinstance(target, cst.Name):
        if sources is not None:
            bindings[target.value] = [s for group in sources for s in group]
    elif isinstance(target, (cst.Tuple, cst.List)) and isinstance(iterable, cst.Call) and dotted_name(iterable.func) == "zip":
        for element, arg in zip(target.elements, iterable.args):
            bindings.update(_bind_loop_target(element.value, arg.value, outer))
    elif isinstance(target, (cst.Tuple, cst.List)) and sources is not None and target.elements:
        # `for name, p in self.x.named_parameters()`: the last element is the parameter.
        last = target.elements[-1].value
        if isinstance(last, cst.Name):
            bindings[last.value] = [s for group in sources for s in group]
    return bindings


def _parameter_sources(iterable: cst.BaseExpression, outer: LoopBindings) -> list[list[cst.BaseExpression]] | None:
    """Modules whose parameters (or which modules themselves) `iterable` yields."""
    if isinstance(iterable, cst.Call):
        func = iterable.func
        if isinstance(func, cst.Attribute) and func.attr.value in {"parameters", "named_parameters", "children", "modules"}:
            receiver = func.value
            if isinstance(receiver, cst.Name) and receiver.value in outer:
                return [outer[receiver.value]]
            return [[receiver]]
        name = dotted_name(func)
        if name in {"list", "tuple", "iter", "itertools.chain", "chain", "enumerate"}:
            groups = [_parameter_sources(a.value, outer) for a in iterable.args]
            if name == "enumerate":
                return None
            known = [g for g in groups if g is not None]
            if len(known) == len(groups) and groups:
                return [m for g in known for m in g]
    if isinstance(iterable, cst.BinaryOperation) and isinstance(iterable.operator, cst.Add):
        left = _parameter_sources(iterable.left, outer)
        right = _parameter_sources(iterable.right, outer)
        if left is not None and right is not None:
            return left + right
    if isinstance(iterable, (cst.List, cst.Tuple)):
        modules = [e.value for e in iterable.elements if not isinstance(e, cst.StarredElement)]
        if modules and all(is_self_attribute(m) or is_self(m) for m in modules):
            return [modules]
    return None


def _bind_arguments(params: list[str], call: cst.Call) -> dict[str, cst.BaseExpression]:
    bound = {}
    positional = [a for a in call.args if a.keyword is None and not a.star]
    for name, arg in zip(params, positional):
        bound[name] = arg.value
    for arg in call.args:
        if arg.keyword is not None:
            bound[arg.keyword.value] = arg.value
    return bound


def _built_frozen_parameter(call: cst.Call) -> bool:
    """`nn.Parameter(t, requires_grad=False)` (or `nn.Parameter(t, False)`)."""
    for position, arg in enumerate(call.args):
        if (arg.keyword is not None and arg.keyword.value == "requires_grad") or (arg.keyword is None and position == 1):
            return literal(arg.value, None) is False
    return False


def _requires_grad_value(call: cst.Call) -> bool | None:
    """`requires_grad_()` means True; `requires_grad_(False)` False; anything else None."""
    if not call.args:
        return True
    value = literal(call.args[0].value, None)
    return value if isinstance(value, bool) else None


def helper_freeze_effect(function: FunctionInfo) -> tuple[str, str | None] | None:
    """For `def set_requires_grad(model, val): for p in model.parameters(): p.requires_grad = val`
    returns ("model", "val"); for `def freeze(m): m.requires_grad_(False)` returns ("m", None)."""
    params = {p.name.value for p in function.params}
    body = function.node.body.body if isinstance(function.node.body, cst.IndentedBlock) else []

    def visit(stmts: Sequence[cst.BaseStatement], bindings: LoopBindings) -> tuple[str, str | None] | None:
        for stmt in stmts:
            if isinstance(stmt, cst.For):
                inner = dict(bindings)
                for name, owners in _bind_loop_target(stmt.target, stmt.iter, {}).items():
                    inner[name] = owners
                if isinstance(stmt.target, cst.Name) and isinstance(stmt.iter, cst.Name) and stmt.iter.value in params:
                    inner[stmt.target.value] = [stmt.iter]  # `def freeze(params): for p in params: ...`
                found = visit(stmt.body.body if isinstance(stmt.body, cst.IndentedBlock) else [], inner)
                if found:
                    return found
            elif isinstance(stmt, cst.SimpleStatementLine):
                for small in stmt.body:
                    found = _freeze_in_small(small, bindings, params)
                    if found:
                        return found
            elif not isinstance(stmt, (cst.FunctionDef, cst.ClassDef)):
                for block in blocks(stmt):
                    found = visit(block, bindings)
                    if found:
                        return found
        return None

    return visit(body, {})


def _freeze_in_small(small: cst.BaseSmallStatement, bindings: LoopBindings,
                     params: set[str]) -> tuple[str, str | None] | None:
    def module_param(expr: cst.BaseExpression) -> str | None:
        if isinstance(expr, cst.Name):
            if expr.value in params:
                return expr.value
            for owner in bindings.get(expr.value, []):
                if isinstance(owner, cst.Name) and owner.value in params:
                    return owner.value
        return None

    if isinstance(small, cst.Assign):
        for target in small.targets:
            t = target.target
            if isinstance(t, cst.Attribute) and t.attr.value == "requires_grad":
                owner = module_param(t.value)
                if owner:
                    value = small.value
                    if literal(value, None) is False:
                        return owner, None
                    if isinstance(value, cst.Name) and value.value in params:
                        return owner, value.value
    if isinstance(small, cst.Expr) and isinstance(small.value, cst.Call):
        func = small.value.func
        if isinstance(func, cst.Attribute) and func.attr.value == "requires_grad_":
            owner = module_param(func.value)
            if owner:
                args = small.value.args
                if args and isinstance(args[0].value, cst.Name) and args[0].value.value in params:
                    return owner, args[0].value.value
                if _requires_grad_value(small.value) is False:
                    return owner, None
    return None


@dataclass
class ExternalFreezes:
    """Freezes written outside the frozen module's class, scoped to the object they reach.

    `model.teacher.requires_grad_(False)` where `model = Distill(...)` in the same scope
    freezes `Distill`'s `teacher` only (`of_class`); a freeze in class `A` never affects
    class `B`. When the receiver's class is unknown (a parameter, a factory's result, a
    trainer's `self.model`), every class with that attribute may be the one frozen
    (`of_unknown`), so no trainability finding is made about it.
    """

    of_class: dict[ClassInfo, set[str]] = field(default_factory=dict)
    of_unknown: set[str] = field(default_factory=set)

    def covers(self, cls: ClassInfo, attr: str) -> bool:
        return attr in self.of_unknown or attr in self.of_class.get(cls, ())


def collect_external_freezes(index: ProjectIndex, models: ModuleModels) -> ExternalFreezes:
    """Freezes outside the frozen module's own `__init__`: `model.teacher.requires_grad_(False)`,
    `for p in model.teacher.parameters(): p.requires_grad = False` in a training script,
    `self.encoder.backbone.requires_grad_(False)` in a method.

    Only files that mention `requires_grad` or `freeze` are walked, so this costs nothing on most files.
    """
    found = ExternalFreezes()
    for module in index.by_file.values():
        if not may_change_requires_grad(module.file.text):
            continue
        classes = {id(cls.node): cls for cls in module.classes.values()}
        body = module.file.module.body
        _FreezeCollector(models, module, classes, found).walk(body, {}, _FreezeScope(None, assignments_in(body), set(), None))
    return found


# Methods that return the module they are called on.
_SAME_MODULE_METHODS = frozenset({"to", "cuda", "cpu", "eval", "train", "float", "half", "double", "requires_grad_"})


@dataclass
class _FreezeScope:
    self_class: ClassInfo | None  # what `self` is in this function (a module class), else None
    assigned: dict[str, list[cst.BaseExpression]]  # `name = value` of the scope
    rebound: set[str]  # names bound otherwise too (tuple targets, loops, with): unknown values
    outer: _FreezeScope | None  # the module's scope, for names a function does not bind


class _FreezeCollector:
    def __init__(self, models: ModuleModels, module: ModuleInfo, classes: dict[int, ClassInfo], found: ExternalFreezes):
        self.models = models
        self.module = module
        self.classes = classes
        self.found = found

    def walk(self, body, bindings: dict, scope: _FreezeScope) -> None:
        for stmt in body:
            if isinstance(stmt, cst.SimpleStatementLine):
                for small in stmt.body:
                    for receiver in _frozen_receiver(small, bindings):
                        self.note(receiver, scope)
            elif isinstance(stmt, cst.For):
                inner = dict(bindings)
                inner.update(_bind_loop_target(stmt.target, stmt.iter, bindings))
                self.walk(stmt.body.body if isinstance(stmt.body, cst.IndentedBlock) else [], inner, scope)
            elif isinstance(stmt, cst.ClassDef):
                cls = self.classes.get(id(stmt))
                self_class = cls if cls is not None and self.models.is_module_class(cls) else None
                for item in stmt.body.body if isinstance(stmt.body, cst.IndentedBlock) else []:
                    if isinstance(item, cst.FunctionDef):
                        self.function(item, self_class, scope)
            elif isinstance(stmt, cst.FunctionDef):
                self.function(stmt, None, scope)
            else:
                for block in blocks(stmt):
                    self.walk(block, bindings, scope)

    def function(self, node: cst.FunctionDef, self_class: ClassInfo | None, outer: _FreezeScope) -> None:
        body = node.body.body if isinstance(node.body, cst.IndentedBlock) else []
        params = {p.name.value for p in [*node.params.posonly_params, *node.params.params, *node.params.kwonly_params]}
        for star in (node.params.star_arg, node.params.star_kwarg):
            if isinstance(star, cst.Param):
                params.add(star.name.value)
        scope = _FreezeScope(self_class, assignments_in(body), _rebound_names(body) | params, outer)
        self.walk(body, {}, scope)

    def note(self, receiver: cst.BaseExpression, scope: _FreezeScope) -> None:
        chain: list[str] = []
        base = receiver
        while isinstance(base, cst.Attribute):
            chain.append(base.attr.value)
            base = base.value
        chain.reverse()
        if not chain:
            name = last_name(receiver)
            if name and name != "self":
                # A whole object frozen (`teacher.requires_grad_(False)`): it may be handed to
                # any constructor and stored under its name.
                self.found.of_unknown.add(name)
            return
        owner = self.class_of(base, scope)
        for attr in chain[:-1]:
            if owner is None:
                break
            sub = self.models.model(owner).submodules.get(attr)
            owner = sub.kind.project_class if sub is not None else None
        if owner is None:
            self.found.of_unknown.add(chain[-1])
        else:
            self.found.of_class.setdefault(owner, set()).add(chain[-1])

    def class_of(self, base: cst.BaseExpression, scope: _FreezeScope | None) -> ClassInfo | None:
        """The module class `base` certainly holds an instance of, or None."""
        if not isinstance(base, cst.Name) or scope is None:
            return None
        if base.value == "self":
            return scope.self_class
        while scope is not None:
            if base.value in scope.rebound:
                return None
            values = scope.assigned.get(base.value)
            if values:
                classes = {self._constructed(value) for value in values}
                return classes.pop() if len(classes) == 1 else None
            scope = scope.outer
        return None

    def _constructed(self, value: cst.BaseExpression) -> ClassInfo | None:
        """`Net(...)` (possibly `.to(device)`...): the project module class built there."""
        while (
            isinstance(value, cst.Call)
            and isinstance(value.func, cst.Attribute)
            and value.func.attr.value in _SAME_MODULE_METHODS
        ):
            value = value.func.value
        if not isinstance(value, cst.Call):
            return None
        qualname = self.module.resolve_expr(value.func)
        cls = self.models.index.lookup_class(qualname) if qualname else None
        return cls if cls is not None and self.models.is_module_class(cls) else None


def _rebound_names(body) -> set[str]:
    """Names a block binds other than by `name = value`: their value is unknown here.
    (`model, optimizer, loader = engine.make_private(module=model, ...)` keeps the object.)"""
    names: set[str] = set()

    def targets(expr) -> None:
        names.update(target_names(expr))

    for stmt in walk_statements(body):
        if isinstance(stmt, (cst.For, cst.While)) and isinstance(stmt, cst.For):
            targets(stmt.target)
        elif isinstance(stmt, cst.With):
            for item in stmt.items:
                if item.asname is not None:
                    targets(item.asname.name)
        elif isinstance(stmt, (cst.FunctionDef, cst.ClassDef)):
            names.add(stmt.name.value)
        elif isinstance(stmt, cst.SimpleStatementLine):
            for small in stmt.body:
                if isinstance(small, cst.Assign):
                    engine = isinstance(small.value, cst.Call) and (last_name(small.value.func) or "").startswith("make_private")
                    for target in small.targets:
                        if isinstance(target.target, (cst.Tuple, cst.List)) and not engine:
                            # `g, d = G(), D()` binds each name to a known value; `a, b = f()` does not.
                            paired = {name for name, _ in unpacked(target.target, small.value)}
                            before = set(names)
                            targets(target.target)
                            names -= paired - before
                elif isinstance(small, cst.AugAssign):
                    targets(small.target)
                elif isinstance(small, (cst.Global, cst.Nonlocal)):
                    names.update(n.name.value for n in small.names)
                elif isinstance(small, (cst.Import, cst.ImportFrom)) and not isinstance(small.names, cst.ImportStar):
                    for alias in small.names:
                        names.add((alias.evaluated_alias or alias.evaluated_name).split(".")[0])
    return names


def _frozen_receiver(small: cst.BaseSmallStatement, bindings: LoopBindings) -> list[cst.BaseExpression]:
    if isinstance(small, cst.Assign) and literal(small.value, None) is False:
        found = []
        for target in small.targets:
            t = target.target
            if isinstance(t, cst.Attribute) and t.attr.value == "requires_grad":
                param = t.value
                if isinstance(param, cst.Name) and param.value in bindings:
                    found.extend(bindings[param.value])
                elif isinstance(param, cst.Attribute):
                    # `model.pos_emb.requires_grad = False` (a parameter; on a module the assignment
                    # freezes nothing, and counting it frozen only withholds findings).
                    found.append(param)
        return found
    if isinstance(small, cst.Expr) and isinstance(small.value, cst.Call):
        func = small.value.func
        if isinstance(func, cst.Attribute) and func.attr.value == "requires_grad_" and _requires_grad_value(small.value) is False:
            receiver = func.value
            if isinstance(receiver, cst.Name) and receiver.value in bindings:
                return list(bindings[receiver.value])
            return [receiver]
        # freeze(model.teacher) / set_requires_grad(teacher, False): any call whose name says freeze.
        name = dotted_name(func) or ""
        last = name.rsplit(".", 1)[-1].lower()
        if "freeze" in last and "unfreeze" not in last or last == "set_requires_grad":
            args = small.value.args
            if args and not (len(args) > 1 and literal(args[1].value, None) is True):
                return [args[0].value]
    return []


def _root_name(expr: cst.BaseExpression) -> str | None:
    """`cfg` of `cfg.model.norm_layer`; None when the chain does not start at a name."""
    while isinstance(expr, cst.Attribute):
        expr = expr.value
    return expr.value if isinstance(expr, cst.Name) else None

"""The layer tree of a model, with each layer's constructor settings resolved.

Walking `TextClassifier` built as `TextClassifier(vocab, batch_first=False)` visits every
submodule transitively (project classes, `nn.Sequential`, `nn.ModuleList`
comprehensions, modules handed to constructors) and evaluates each layer's arguments
in the scope of the `__init__` that wrote them:

    class Block(nn.Module):
        def __init__(self, dim, heads=1, batch_first=True):
            self.batch_first = batch_first
            self.attn = DPMultiheadAttention(dim, heads, batch_first=self.batch_first)

Here the attention's `batch_first` is whatever the parent passed for `batch_first`, or
`True` by default. Anything that is not a literal in the end (`**kwargs`, a value read
from a config object) is UNKNOWN, and UNKNOWN never produces a finding.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import TypeAlias, cast

import libcst as cst

from dp_lint.analysis import knowledge as tk
from dp_lint.analysis.constants import ConstantEvaluator, constructor_setting, literal
from dp_lint.analysis.index import ClassInfo, FunctionInfo, ModuleInfo
from dp_lint.analysis.models import Condition, ModuleClass, ModuleKind, ModuleModels, Submodule, torch_layer_owns
from dp_lint.analysis.objects import ClassValue, NamespaceValue, ObjectValue, Reference
from dp_lint.analysis.values import UNKNOWN, Constant, Unknown
from dp_lint.files.source import SourceFile
from dp_lint.files.syntax import (
    assignments_in,
    bind_call,
    blocks,
    dotted_name,
    enclosing,
    target_names,
    unpacked,
)

__all__ = [
    "BATCH_FIRST_LAYERS", "UNKNOWN", "Binding", "BoundValue", "Instance", "KeywordOrigin", "LayerTree",
    "LayerUse", "LiteralOrigin", "ModuleArgument", "Origin", "literal",
]

# Layers with a `batch_first` setting: the position of batch_first among their positional arguments.
BATCH_FIRST_LAYERS: dict[str, int] = {
    "LSTM": 4, "GRU": 4, "RNN": 5,
    "DPLSTM": 4, "DPGRU": 4, "DPRNN": 4,
    "MultiheadAttention": 8, "DPMultiheadAttention": 8,
    "TransformerEncoderLayer": 6, "TransformerDecoderLayer": 6, "Transformer": 10,
}


@dataclass(frozen=True)
class ModuleArgument:
    """A module handed to a constructor, remembered with the scope it was built in."""

    kind: ModuleKind
    instance: Instance | None
    owner: ClassInfo | None


# What an `__init__` parameter is bound to: a literal, a module handed in, a class, a config
# object or namespace (objects.py), a dict of those, or UNKNOWN.
BoundValue: TypeAlias = (
    "Constant | ModuleArgument | Unknown | ClassValue | ObjectValue | NamespaceValue | Reference | dict[str, object]"
)


@dataclass(frozen=True)
class Binding:
    """The call that bound one `__init__` scope of an instance: `call` (None: the class was
    built with no visible call), written in `call_module`, by the code of `owner` running
    for `instance` (both None at the root). Fixes follow a value back through it."""

    call: cst.Call | None
    call_module: ModuleInfo | None
    instance: Instance | None
    owner: ClassInfo | None
    # The call as written when `call` is it without an always-empty `**kwargs` (see
    # `LayerTree._without_empty_kwargs`): fixes edit what is written.
    as_written: cst.Call | None = None


_UNBOUND = Binding(None, None, None, None)


@dataclass(eq=False)
class Instance:
    """One construction of a project module class, with its `__init__` parameters bound."""

    cls: ClassInfo
    path: str  # "TextClassifier.encoder.layers[*]"
    # For the class and each base class whose __init__ runs: parameter -> value.
    scopes: dict[ClassInfo, dict[str, BoundValue]] = field(default_factory=dict)
    depth: int = 0
    # For each scope, the call that bound it.
    bound_by: dict[ClassInfo, Binding] = field(default_factory=dict)
    # The construction of the instance itself (for a subclass of a torch layer without __init__).
    built_by: Binding = field(default_factory=lambda: _UNBOUND)
    # For each scope, its local names as `__init__` leaves them (parameters reassigned, locals).
    envs: dict[ClassInfo, dict[str, BoundValue]] = field(default_factory=dict)


@dataclass(frozen=True)
class LiteralOrigin:
    """The value is the literal `node`, written in `module`: a fix replaces it."""

    node: cst.BaseExpression
    module: ModuleInfo | None


@dataclass(frozen=True)
class KeywordOrigin:
    """The value is a parameter's default that `call` (in `module`) relies on: a fix passes
    `name=` there; `fallback` (the default's literal, or None) is where to change it instead."""

    call: cst.Call
    module: ModuleInfo | None
    name: str
    fallback: LiteralOrigin | None = None


# Where a value is set, for a fix to change it (None: dp-lint cannot tell).
Origin: TypeAlias = "LiteralOrigin | KeywordOrigin"


@dataclass(frozen=True)
class LayerUse:
    """A torch/opacus layer constructed somewhere in the tree, seen through one path."""

    kind: ModuleKind
    instance: Instance | None
    owner: ClassInfo | None
    path: str

    @property
    def name(self) -> str:
        """The layer's class name: "LSTM", "DPMultiheadAttention", ..."""
        return self.kind.torch_class or ""

    @property
    def direct(self) -> bool:
        """Does `call` name the layer's class itself (`nn.LSTM(...)`)? False when the class
        comes through a value (`norm_layer(c)`, a partial, a registry) or a subclass: a fix
        then has no call to rewrite."""
        return self.kind.via is None

    @property
    def call(self) -> cst.Call | None:
        """The construction call (None: the layer was not built by a visible call)."""
        return self.kind.call

    @property
    def module(self) -> ModuleInfo | None:
        """The module whose code writes the construction call."""
        return self.kind.module

    @property
    def file(self) -> SourceFile | None:
        """The file holding the construction call (None with `call`)."""
        return self.kind.module.file if self.kind.module is not None else None


def _names(tree: cst.CSTNode, name: str) -> list[cst.Name]:
    """Every `Name` node spelling `name` in `tree` (strings and comments are not names)."""
    found: list[cst.Name] = []

    class Finder(cst.CSTVisitor):
        def visit_Name(self, node: cst.Name) -> None:
            if node.value == name:
                found.append(node)

    tree.visit(Finder())
    return found


class LayerTree:
    """Walks the layer trees of models: instances, the layers they build, their settings."""

    def __init__(self, models: ModuleModels) -> None:
        self.models = models
        self.index = models.index
        self.values = models.values
        self._init_names: dict[ClassInfo, set[str]] = {}
        self._empty_kwargs: dict[FunctionInfo, bool] = {}

    # -- instances ---------------------------------------------------------------

    def instantiate(self, cls: ClassInfo, call: cst.Call | None, call_module: ModuleInfo | None,
                    parent: Instance | None, parent_owner: ClassInfo | None, path: str, depth: int = 0) -> Instance:
        instance = Instance(cls, path, depth=depth)
        instance.built_by = Binding(call, call_module, parent, parent_owner)

        def evaluate_arg(expr: cst.BaseExpression) -> BoundValue:
            return self.argument_value(expr, call_module, parent, parent_owner)

        def evaluator(owner: ClassInfo) -> Callable[[cst.BaseExpression], BoundValue]:
            return lambda expr: self.evaluate(expr, instance, owner)

        previous_call: cst.Call | None = self._without_empty_kwargs(call, call_module)
        previous_eval: Callable[[cst.BaseExpression], BoundValue] = evaluate_arg
        binder = Binding(previous_call, call_module, parent, parent_owner,
                         as_written=call if previous_call is not call else None)
        for owner in self.index.mro(cls):
            init = owner.methods.get("__init__")
            if init is None:
                continue
            instance.scopes[owner] = self._bind(owner, init, previous_call, previous_eval)
            instance.bound_by[owner] = binder
            # The next base's __init__ receives what this one passes to super().__init__(...).
            previous_call = _super_init_call(init.node, owner)
            previous_eval = evaluator(owner)
            binder = Binding(previous_call, owner.module, instance, owner)
        return instance

    def _without_empty_kwargs(self, call: cst.Call | None, module: ModuleInfo | None) -> cst.Call | None:
        """`call` without its `**kwargs` when that is the `**` parameter of the module-level
        factory the call is written in (`def resnet18(**kwargs): return ResNet(..., **kwargs)`)
        and it is always empty: every call of the factory in the project passes only keywords
        the factory names, and the factory is never used other than called. Else `call`."""
        if call is None or module is None:
            return call
        stars = [a for a in call.args if a.star]
        if len(stars) != 1 or stars[0].star != "**" or not isinstance(stars[0].value, cst.Name):
            return call
        function = enclosing(module.file.parents.get(call), module.file.parents, cst.FunctionDef)
        info = module.functions.get(function.name.value) if function is not None else None
        if function is None or info is None or info.node is not function:
            return call
        star_kwarg = function.params.star_kwarg
        if not isinstance(star_kwarg, cst.Param) or star_kwarg.name.value != stars[0].value.value:
            return call
        if function.params.star_arg is not None and isinstance(function.params.star_arg, cst.Param):
            return call
        if self._kwargs_always_empty(info):
            return call.with_changes(args=[a for a in call.args if a is not stars[0]])
        return call

    def _kwargs_always_empty(self, function: FunctionInfo) -> bool:
        if function in self._empty_kwargs:
            return self._empty_kwargs[function]
        self._empty_kwargs[function] = False  # cycle guard
        named = {p.name.value for p in function.params}
        name = function.name
        calls = 0
        for module in self.index.by_file.values():
            if name not in module.file.text:
                continue
            parents = module.file.parents
            for node in _names(module.file.module, name):
                parent = parents.get(node)
                if isinstance(parent, cst.FunctionDef) and parent.name is node:
                    continue  # a definition
                if enclosing(node, parents, (cst.Import, cst.ImportFrom)) is not None:
                    continue
                call = parent if isinstance(parent, cst.Call) and parent.func is node else None
                if isinstance(parent, cst.Attribute) and parent.attr is node:
                    grand = parents.get(parent)
                    call = grand if isinstance(grand, cst.Call) and grand.func is parent else None
                    if call is None:
                        continue  # `obj.name`: an attribute of something else, or a reference
                if call is None:
                    qualname = module.resolve_expr(node)
                    if qualname is not None and self.index.lookup_function(qualname) is function:
                        return False  # referenced other than called (a registry entry, a default)
                    continue
                qualname = module.resolve_expr(call.func) if dotted_name(call.func) else None
                if qualname is None or self.index.lookup_function(qualname) is not function:
                    continue
                calls += 1
                if any(a.star for a in call.args) or any(
                        a.keyword is not None and a.keyword.value not in named for a in call.args):
                    return False
        self._empty_kwargs[function] = calls > 0
        return calls > 0

    def origin(self, expr: cst.BaseExpression | None, instance: Instance | None, owner: ClassInfo | None,
               module: ModuleInfo | None, depth: int = 0) -> Origin | None:
        """Where the value of `expr` is set, for a fix to change it: a literal to replace, or
        a construction call that should pass the parameter by keyword; None when dp-lint
        cannot tell."""
        if depth > 8 or expr is None:
            return None
        if literal(expr, None) is not UNKNOWN:
            return LiteralOrigin(expr, module)
        if instance is None or owner is None:
            return None
        scope = instance.scopes.get(owner, {})
        if isinstance(expr, cst.Name) and expr.value in scope:
            binding = instance.bound_by.get(owner, _UNBOUND)
            call = binding.as_written or binding.call
            if call is not None and (binding.call_module is None or call not in binding.call_module.file.parents):
                return None  # a call dp-lint wrote (a partial's preset arguments): nothing to edit
            init = owner.methods.get("__init__")
            param = next((p for p in init.params if p.name.value == expr.value), None) if init else None
            argument = _argument_for(call, init, expr.value) if call is not None and init is not None else None
            default = None
            if param is not None and param.default is not None and literal(param.default, None) is not UNKNOWN:
                default = LiteralOrigin(param.default, owner.module)
            if argument is not None:
                return self.origin(argument, binding.instance, binding.owner, binding.call_module, depth + 1)
            if call is not None and not any(a.star for a in call.args):
                # The caller relies on the default: pass the value there (or, failing
                # that, change the default itself: `fallback`).
                return KeywordOrigin(call, binding.call_module, expr.value, default)
            return default
        if isinstance(expr, cst.Attribute) and isinstance(expr.value, cst.Name) and expr.value.value == "self":
            found = self.models.model(instance.cls).attribute_values.get(expr.attr.value)
            if found is not None:
                value_expr, writer = found
                return self.origin(value_expr, instance, writer, writer.module, depth + 1)
        return None

    def _bind(self, owner: ClassInfo, init: FunctionInfo, call: cst.Call | None,
              evaluate_arg: Callable[[cst.BaseExpression], BoundValue]) -> dict[str, BoundValue]:
        def default(param: cst.Param | None) -> BoundValue:
            if param is None or param.default is None:
                return UNKNOWN
            # A constant, or a class (`norm_layer=nn.BatchNorm2d`, a partial), read at module level.
            return cast(BoundValue, self.values.scope(owner.module, None).evaluate(param.default))

        return bind_call(init.node, call, evaluate_arg, default, skip_self=True)

    def argument_value(self, expr: cst.BaseExpression, module: ModuleInfo | None, parent: Instance | None,
                       parent_owner: ClassInfo | None) -> BoundValue:
        """A constructor argument: a literal, a module built here, or a value from the parent's scope."""
        if module is not None and isinstance(expr, cst.Call):
            kind = self.models.kind_of(module, expr)
            if kind is not None and (kind.certain_module or kind.project_class or kind.torch_class):
                return ModuleArgument(kind, parent, parent_owner)
            if kind is not None:
                # Maybe a module from another library, maybe a value (`SimpleNamespace(...)`).
                value = self._plain_argument(expr, module, parent, parent_owner)
                return value if value is not UNKNOWN else ModuleArgument(kind, parent, parent_owner)
        if parent is None and module is not None and isinstance(expr, cst.Name):
            # A root construction handed a module built on an earlier line of the same function
            # (`encoder = MLPEncoder(...)`, then `return MODELS[name](encoder, dim)`).
            built = self.values.assigned_expression(module, expr, expr.value)
            if isinstance(built, cst.Call):
                kind = self.models.kind_of(module, built)
                if kind is not None and (kind.project_class or kind.torch_class):
                    return ModuleArgument(kind, None, None)
        if parent is not None and parent_owner is not None:
            return self.evaluate(expr, parent, parent_owner)
        # A root construction: read where it is written (a script's config object, argparse
        # defaults, a class handed in).
        return cast(BoundValue, self.values.at(module, expr).evaluate(expr)) if module is not None else literal(expr, None)

    def _plain_argument(self, expr: cst.BaseExpression, module: ModuleInfo, parent: Instance | None,
                        parent_owner: ClassInfo | None) -> BoundValue:
        if parent is not None and parent_owner is not None:
            return self.evaluate(expr, parent, parent_owner)
        return cast(BoundValue, self.values.at(module, expr).evaluate(expr))

    def evaluate(self, expr: cst.BaseExpression | None, instance: Instance, owner: ClassInfo, depth: int = 0) -> BoundValue:
        """The value of `expr` written in `owner.__init__` for this instance, or UNKNOWN."""
        # The evaluator's hooks (names, attributes) only produce BoundValues.
        return cast(BoundValue, self.evaluator(instance, owner).evaluate(expr, depth))

    def evaluator(self, instance: Instance, owner: ClassInfo) -> ConstantEvaluator:
        """How `owner.__init__` of this instance is read: its bound parameters, `self.<x>`
        as `__init__` wrote it, `not`."""
        module = owner.module

        def attribute(name: str, depth: int) -> object:
            found = self.models.model(instance.cls).attribute_values.get(name)
            if found is None:
                return UNKNOWN
            value_expr, writer = found
            return self.evaluate(value_expr, instance, writer, depth + 1)

        def names(name: str, depth: int) -> object:
            env = self._env(instance, owner)
            if name in env:
                return env[name]
            if name in self._assigned_in_init(owner):
                return UNKNOWN
            return self.values.global_name(module, name, depth)

        evaluator: ConstantEvaluator = ConstantEvaluator(
            module,
            names=names,
            self_attribute=attribute,
            negation=True,
            comparisons=True,
            dicts=True,
            attributes=self.values.attribute,
            calls=lambda call, depth: self.values.call_value(call, evaluator, module, depth),
            max_depth=8,
        )
        return evaluator

    def _assigned_in_init(self, owner: ClassInfo) -> set[str]:
        if owner not in self._init_names:
            init = owner.methods.get("__init__")
            body = init.node.body.body if init is not None and isinstance(init.node.body, cst.IndentedBlock) else []
            self._init_names[owner] = set(assignments_in(body))
        return self._init_names[owner]

    def _env(self, instance: Instance, owner: ClassInfo) -> dict[str, BoundValue]:
        """The names of `owner.__init__` for this instance as its code leaves them: parameters,
        reassigned (`if norm_layer is None: norm_layer = nn.BatchNorm2d`) or not, and locals;
        `if` tests that resolve choose their branch, others keep what both branches agree on."""
        env = instance.envs.get(owner)
        if env is not None:
            return env
        env = dict(instance.scopes.get(owner, {}))
        instance.envs[owner] = env  # while it is read, later names are not known yet
        init = owner.methods.get("__init__")
        if init is not None and isinstance(init.node.body, cst.IndentedBlock):
            self._interpret(init.node.body.body, env, self.evaluator(instance, owner))
        return env

    def _interpret(self, body: Sequence[cst.BaseStatement], env: dict[str, BoundValue], evaluator: ConstantEvaluator) -> None:
        for stmt in body:
            if isinstance(stmt, cst.SimpleStatementLine):
                for small in stmt.body:
                    if isinstance(small, (cst.Assign, cst.AnnAssign)) and small.value is not None:
                        targets = small.targets if isinstance(small, cst.Assign) else [small]
                        for target in targets:
                            pairs = unpacked(target.target, small.value)
                            for name, value in pairs:
                                env[name] = cast(BoundValue, evaluator.evaluate(value))
                            if not pairs:
                                for name in target_names(target.target):
                                    env[name] = UNKNOWN
                    elif isinstance(small, cst.AugAssign):
                        for name in target_names(small.target):
                            env[name] = UNKNOWN
            elif isinstance(stmt, cst.If):
                test = evaluator.evaluate(stmt.test)
                orelse: Sequence[cst.BaseStatement] = (
                    stmt.orelse.body.body if isinstance(stmt.orelse, cst.Else) and isinstance(stmt.orelse.body, cst.IndentedBlock)
                    else [stmt.orelse] if isinstance(stmt.orelse, cst.If) else []
                )
                body_block = stmt.body.body if isinstance(stmt.body, cst.IndentedBlock) else []
                if test is not UNKNOWN and isinstance(test, (bool, int, float, str, type(None), tuple, list, dict)):
                    self._interpret(body_block if test else orelse, env, evaluator)
                    continue
                before = dict(env)
                self._interpret(body_block, env, evaluator)
                taken = dict(env)
                env.clear()
                env.update(before)
                self._interpret(orelse, env, evaluator)
                for name in set(taken) | set(env):
                    a, b = taken.get(name, UNKNOWN), env.get(name, UNKNOWN)
                    if not (type(a) is type(b) and _same(a, b)):
                        env[name] = UNKNOWN
            elif isinstance(stmt, (cst.FunctionDef, cst.ClassDef)):
                env[stmt.name.value] = UNKNOWN
            else:
                # Loops, try, with, match: whatever they assign is unknown afterwards.
                for block in blocks(stmt):
                    for name in assignments_in(block):
                        env[name] = UNKNOWN
                if isinstance(stmt, cst.For):
                    for name in target_names(stmt.target):
                        env[name] = UNKNOWN

    # -- walking -------------------------------------------------------------------

    def classes(self, instance: Instance) -> set[ClassInfo]:
        """Every project module class built inside `instance` (itself included)."""
        found: set[ClassInfo] = set()
        stack = [instance]
        while stack:
            current = stack.pop()
            if current.cls in found or current.depth > 12:
                continue
            found.add(current.cls)
            model = self.models.model(current.cls)
            for _, sub in _constructions(model):
                if not self._excluded(sub.conditions, current, sub.owner):
                    stack.extend(self._instances(sub.kind, current, sub.owner, f"{current.path}.{sub.attr}"))
            # A module class handed to the constructor as a value (`ResNet(BasicBlock, [2, 2])`) is
            # built inside, even where dp-lint cannot follow how (`self._make_layer(block, ...)`):
            # it may be private. Its own settings are unknown (no call binds them).
            for values in current.scopes.values():
                for value in values.values():
                    if (isinstance(value, ClassValue) and value.cls is not None and value.cls not in found
                            and self.models.is_module_class(value.cls)):
                        stack.append(self.instantiate(value.cls, None, None, None, None,
                                                      f"{current.path}.<{value.cls.name}>", current.depth + 1))
        return found

    def hooked_classes(self, instance: Instance) -> set[ClassInfo]:
        """The project module classes built inside `instance` (itself included) whose submodules
        Opacus' hooks see one by one: neither the class nor any class around it on the way down
        from `instance` holds (or may hold) parameters of its own.

        A module with trainable parameters of its own and no grad sampler is one unit to Opacus:
        its functorch fallback differentiates that module's whole forward, children included, and
        does not descend into it (`GradSampleModule.iterate_submodules`). Classes with an
        `nn.Parameter` attribute (frozen ones too: unknown counts as a unit), `register_parameter`,
        dynamic attributes or a base class of another library are treated as units."""
        found: set[ClassInfo] = set()
        stack = [instance]
        while stack:
            current = stack.pop()
            if current.cls in found or current.depth > 12:
                continue
            model = self.models.model(current.cls)
            external = [b for b in self.index.external_bases(current.cls) if b not in tk.MODULE_BASES]
            if model.direct_parameters or model.dynamic_attributes or external:
                continue
            found.add(current.cls)
            for _, sub in _constructions(model):
                if not self._excluded(sub.conditions, current, sub.owner):
                    stack.extend(self._instances(sub.kind, current, sub.owner, f"{current.path}.{sub.attr}"))
        return found

    def children(self, instance: Instance) -> Iterator[tuple[Submodule, Instance]]:
        """The project-class instances built as submodules of `instance` (containers looked
        into), with the `self.<attr> = ...` that builds each; constructions whose `if` is known
        false for this instance are left out, those under an unknown or true `if` kept (see
        `certainly_built`)."""
        if instance.depth > 12:
            return
        model = self.models.model(instance.cls)
        for attr, sub in _constructions(model):
            if sub.alias_of is not None or self._excluded(sub.conditions, instance, sub.owner):
                continue
            for child in self._instances(sub.kind, instance, sub.owner, f"{instance.path}.{attr}"):
                yield sub, child

    def certainly_built(self, conditions: tuple[Condition, ...], instance: Instance, owner: ClassInfo) -> bool:
        """Is every `if` around a construction (or a registration) known to hold for this instance?"""
        for condition in conditions:
            value = self.evaluate(condition.test, instance, owner)
            if value is UNKNOWN or bool(value) != condition.outcome:
                return False
        return True

    def _instances(self, kind: ModuleKind, instance: Instance | None, owner: ClassInfo | None, path: str) -> list[Instance]:
        if kind.own_scope:
            instance, owner = None, None
        if kind.callee is not None:
            built = self._called(kind, instance, owner)
            return self._instances(built, instance, owner, path) if built is not None else []
        if kind.param is not None and instance is not None and owner is not None:
            handed = instance.scopes.get(owner, {}).get(kind.param)
            if isinstance(handed, ModuleArgument):
                return self._instances(handed.kind, handed.instance, handed.owner, path)
            return []
        found: list[Instance] = []
        for element in kind.elements:
            found.extend(self._instances(element, instance, owner, path))
        if kind.project_class is not None:
            depth = instance.depth + 1 if instance is not None else 0
            found.append(self.instantiate(kind.project_class, kind.settings_call, kind.module, instance, owner, path, depth))
        return found

    def _called(self, kind: ModuleKind, instance: Instance | None, owner: ClassInfo | None) -> ModuleKind | None:
        """What a call of a class value builds for this instance (`norm_layer(c)` with
        `norm_layer=nn.BatchNorm2d`), None when the callee is not a known class."""
        if kind.callee is None or kind.call is None or kind.module is None:
            return None
        if instance is not None and owner is not None:
            value = self.evaluate(kind.callee, instance, owner)
        else:
            value = cast(BoundValue, self.values.at(kind.module, kind.call).evaluate(kind.callee))
        if not isinstance(value, ClassValue):
            return None
        via = value.via or f"the class `{cst.Module([]).code_for_node(kind.callee)}` holds"
        built = self.models.kind_for_class(value, kind.module, kind.call, via=via)
        if built is None:
            return None
        return replace(built, conditions=kind.conditions + built.conditions)

    def layers(self, instance: Instance) -> Iterator[LayerUse]:
        """Every torch/opacus layer reachable from `instance`."""
        if instance.depth > 12:
            return
        yield from self._torch_base_layer(instance)
        model = self.models.model(instance.cls)
        for attr, sub in _constructions(model):
            if sub.alias_of is not None or self._excluded(sub.conditions, instance, sub.owner):
                continue
            yield from self._visit(sub.kind, instance, sub.owner, f"{instance.path}.{attr}")

    def _torch_base_layer(self, instance: Instance) -> Iterator[LayerUse]:
        """A project class deriving from a torch layer (`class MyLSTM(nn.LSTM)`) is that layer,
        built with what its `__init__` passes to `super().__init__(...)` (or, without an
        `__init__`, with the construction's arguments)."""
        chain = self.index.mro(instance.cls)
        for position, cls in enumerate(chain):
            for base in cls.base_names:
                torch_name = tk.torch_class_name(base)
                if (torch_name is None or self.index.lookup_class(base) is not None or base in tk.MODULE_BASES
                        or torch_name in {"Module", "LightningModule"}):
                    continue
                with_init = [c for c in chain[:position + 1] if "__init__" in c.methods]
                via = f"a subclass of {torch_name}"
                if with_init:
                    nearest = with_init[-1]
                    call = _super_init_call(nearest.methods["__init__"].node, nearest)
                    if call is None:
                        return
                    kind = ModuleKind(f"{torch_name} (subclassed by {instance.cls.name})", torch_layer_owns(torch_name, call),
                                      True, torch_class=torch_name, call=call, module=nearest.module, via=via)
                    yield LayerUse(kind, instance, nearest, instance.path)
                else:
                    built = instance.built_by
                    if built.call is None or built.call_module is None:
                        return
                    kind = ModuleKind(f"{torch_name} (subclassed by {instance.cls.name})",
                                      torch_layer_owns(torch_name, built.call), True, torch_class=torch_name,
                                      call=built.call, module=built.call_module, via=via,
                                      own_scope=built.instance is None)
                    yield LayerUse(kind, built.instance, built.owner, instance.path)
                return

    def _excluded(self, conditions: tuple[Condition, ...], instance: Instance | None, owner: ClassInfo | None) -> bool:
        """Is a module built under `if <test>:` known not to be built for this instance?"""
        if not conditions or instance is None or owner is None:
            return False
        for condition in conditions:
            value = self.evaluate(condition.test, instance, owner)
            if value is not UNKNOWN and bool(value) != condition.outcome:
                return True
        return False

    def _visit(self, kind: ModuleKind, instance: Instance | None, owner: ClassInfo | None, path: str) -> Iterator[LayerUse]:
        if self._excluded(kind.conditions, instance, owner):
            return
        if kind.callee is not None:
            built = self._called(kind, instance, owner)
            if built is not None:
                yield from self._visit(built, instance, owner, path)
            return
        if kind.own_scope:
            instance, owner = None, None
        if kind.param is not None and instance is not None and owner is not None:
            handed = instance.scopes.get(owner, {}).get(kind.param)
            if isinstance(handed, ModuleArgument):
                yield from self._visit(handed.kind, handed.instance, handed.owner, path)
            return
        if kind.torch_class is not None:
            yield LayerUse(kind, instance, owner, path)
            for i, element in enumerate(kind.elements):
                yield from self._visit(element, instance, owner, f"{path}[{i}]")
            return
        if kind.project_class is not None:
            depth = instance.depth + 1 if instance is not None else 0
            child = self.instantiate(kind.project_class, kind.settings_call, kind.module, instance, owner, path, depth)
            yield from self.layers(child)

    def root(self, cls: ClassInfo, call: cst.Call | None = None, call_module: ModuleInfo | None = None) -> Instance:
        return self.instantiate(cls, call, call_module, None, None, cls.name)

    # -- settings ------------------------------------------------------------------

    def setting(self, use: LayerUse, keyword: str, position: int | None,
                default: BoundValue) -> BoundValue:
        """The value of a layer's constructor setting, or UNKNOWN."""
        return cast(BoundValue, constructor_setting(use.kind.settings_call, keyword, position,
                                                    lambda expr: self._value_at(expr, use), default))

    def batch_first(self, use: LayerUse) -> bool | Unknown:
        """The layer's resolved `batch_first` (torch and opacus default: False), or UNKNOWN."""
        position = BATCH_FIRST_LAYERS.get(use.name)
        if position is None:
            return UNKNOWN
        value = self.setting(use, "batch_first", position, False)
        return value if isinstance(value, bool) else UNKNOWN

    def _value_at(self, expr: cst.BaseExpression, use: LayerUse) -> BoundValue:
        if use.instance is not None and use.owner is not None:
            return self.evaluate(expr, use.instance, use.owner)
        if use.module is not None and use.call is not None:
            return cast(BoundValue, self.values.at(use.module, use.call).evaluate(expr))
        return literal(expr, use.module)


def _same(a: object, b: object) -> bool:
    if a is b:
        return True
    try:
        return bool(a == b) and not isinstance(a, (ModuleArgument, ObjectValue, NamespaceValue))
    except Exception:
        return False


def _constructions(model: ModuleClass) -> Iterator[tuple[str, Submodule]]:
    """(attribute, submodule) for every construction of every attribute, conditional ones included."""
    for attr, sub in model.submodules.items():
        for variant in model.variants.get(attr, [sub]):
            yield attr, variant


def _argument_for(call: cst.Call, init: FunctionInfo, name: str) -> cst.BaseExpression | None:
    """The argument `call` passes for parameter `name` of `init`, or None."""
    passed = bind_call(init.node, call, lambda expr: expr, lambda param: None, skip_self=True)
    return passed.get(name)


def _super_init_call(node: cst.FunctionDef, owner: ClassInfo) -> cst.Call | None:
    """`super().__init__(...)` or `Base.__init__(self, ...)` in an __init__ body (top level)."""
    body = node.body.body if isinstance(node.body, cst.IndentedBlock) else []
    for stmt in body:
        if not isinstance(stmt, cst.SimpleStatementLine):
            continue
        for small in stmt.body:
            if not (isinstance(small, cst.Expr) and isinstance(small.value, cst.Call)):
                continue
            call = small.value
            func = call.func
            if isinstance(func, cst.Attribute) and func.attr.value == "__init__":
                receiver = func.value
                if isinstance(receiver, cst.Call) and dotted_name(receiver.func) == "super":
                    return call
                if dotted_name(receiver) and call.args and dotted_name(call.args[0].value) == "self":
                    # Base.__init__(self, ...): drop the explicit self.
                    return call.with_changes(args=call.args[1:])
    return None

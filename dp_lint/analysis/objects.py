"""Values beyond constants: classes, config objects and namespaces, read where an expression is written.

    norm_layer = nn.BatchNorm2d                          # a class as a value
    Block = functools.partial(nn.LSTM, batch_first=True) # a class with preset arguments
    rnn = getattr(nn, cfg.rnn_type)                      # a class found by name
    MODELS = {"lstm": LSTMNet}; MODELS[args.arch]        # a registry indexed by a known key
    cfg = TrainConfig(hidden=64)                         # a config object: cfg.hidden is 64
    args = parser.parse_args()                           # argparse: args.x is add_argument's default

`Values.at(module, node)` is the evaluator of the scope enclosing `node` (a function's body, else the
module): its local names (a name assigned once, or always the same value), the module's names,
imports (`nn.LSTM` is a class), attributes of the objects above, `getattr`, subscripts of dicts,
comparisons, `functools.partial`, and calls of project functions returning one of these. What it
cannot tell is UNKNOWN, and UNKNOWN never produces a finding.

argparse defaults are the value the script runs with when the command line does not override them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

import libcst as cst

from dp_lint.analysis import knowledge as tk
from dp_lint.analysis.constants import ConstantEvaluator, python_literal
from dp_lint.analysis.index import ClassInfo, FunctionInfo, ModuleInfo, ProjectIndex
from dp_lint.analysis.values import UNKNOWN
from dp_lint.files.syntax import (
    argument,
    assignments_in,
    bind_call,
    dotted_name,
    enclosing,
    function_params,
    is_self,
    target_names,
    walk_statements,
)

__all__ = ["ClassValue", "NamespaceValue", "ObjectValue", "Reference", "Values", "preset_call"]


@dataclass(frozen=True)
class ClassValue:
    """A class used as a value: a torch/opacus layer class (`cls` None) or a project class.
    `preset`: arguments `functools.partial` fixed, as (keyword or None, value) pairs."""

    qualname: str
    cls: ClassInfo | None = None
    preset: tuple[tuple[str | None, object], ...] = ()
    via: str = ""  # how the class was found, for messages: "functools.partial", "getattr"

    @property
    def torch_class(self) -> str | None:
        return tk.torch_class_name(self.qualname) if self.cls is None else None


@dataclass(frozen=True, eq=False)
class ObjectValue:
    """An instance of a (non-module) project class built by a visible call: a config object."""

    cls: ClassInfo
    call: cst.Call
    arguments: Callable[[cst.BaseExpression], object] = field(repr=False)  # the call's arguments, where written
    unknown: frozenset[str] = frozenset()  # attributes written after construction ("*": any)


@dataclass(frozen=True, eq=False)
class NamespaceValue:
    """Named values: `SimpleNamespace(...)`, argparse's parsed arguments (their defaults)."""

    entries: dict[str, object]
    what: str
    unknown: frozenset[str] = frozenset()  # attributes written after construction ("*": any)


@dataclass(frozen=True)
class Reference:
    """A dotted name that is not a value dp-lint reads (a module such as `torch.nn`)."""

    qualname: str


_PARTIAL = frozenset({"functools.partial", "partial"})
_NAMESPACES = frozenset({"types.SimpleNamespace", "SimpleNamespace", "argparse.Namespace", "easydict.EasyDict", "EasyDict"})
_DATACLASS_DECORATORS = ("dataclass", "dataclasses.dataclass", "attr.s", "attrs.define", "attr.define",
                         "pydantic.dataclasses.dataclass")
_TYPE_CONVERSIONS: dict[str, Callable[[str], object]] = {"int": int, "float": float, "str": str}


def preset_call(call: cst.Call, preset: Sequence[tuple[str | None, object]]) -> cst.Call:
    """`call` with a partial's preset arguments in front (positional) and added (keywords), each
    as a literal; a preset value that is not a literal makes every setting unknown (`**...`)."""
    if not preset:
        return call
    positional: list[cst.Arg] = []
    keywords: list[cst.Arg] = []
    unknown = False
    for keyword, value in preset:
        text = python_literal(value)
        if text == "...":
            unknown = True
            continue
        expr = cst.parse_expression(text)
        if keyword is None:
            positional.append(cst.Arg(expr))
        elif not any(a.keyword is not None and a.keyword.value == keyword for a in call.args):
            keywords.append(cst.Arg(expr, keyword=cst.Name(keyword), equal=cst.AssignEqual()))
    star = [cst.Arg(cst.Name("__preset__"), star="**")] if unknown else []
    return call.with_changes(args=[*positional, *call.args, *keywords, *star])


class Values:
    """Evaluators of the project's scopes, cached per scope."""

    def __init__(self, index: ProjectIndex) -> None:
        self.index = index
        self._scopes: dict[tuple[int, int], ConstantEvaluator] = {}
        self._assignments: dict[int, dict[str, list[cst.BaseExpression]]] = {}
        self._opaque: dict[int, set[str]] = {}
        self._mutated: dict[int, set[tuple[str, str]]] = {}
        self._argparse: dict[int, object] = {}
        self._active: set[tuple[int, str]] = set()
        self._methods: dict[int, ClassInfo] | None = None
        self._instances: dict[int, object] = {}
        self._calls_of: dict[int, tuple[ModuleInfo, cst.Call] | None] = {}

    # -- scopes ----------------------------------------------------------------------

    def at(self, module: ModuleInfo | None, node: cst.CSTNode | None) -> ConstantEvaluator:
        """The evaluator of the function (else the module) whose code holds `node`."""
        if module is None:
            return ConstantEvaluator(None)
        function = None
        if node is not None:
            function = enclosing(module.file.parents.get(node), module.file.parents, cst.FunctionDef)
        return self.scope(module, function)

    def scope(self, module: ModuleInfo, function: cst.FunctionDef | None,
              bound: dict[str, object] | None = None) -> ConstantEvaluator:
        key = (id(module), id(function))
        if bound is None and key in self._scopes:
            return self._scopes[key]
        body: Sequence[cst.CSTNode] = (
            function.body.body if function is not None and isinstance(function.body, cst.IndentedBlock)
            else module.file.module.body if function is None else []
        )
        params = {p.name.value for p in function_params(function)} if function is not None else set()
        if function is not None:
            for star in (function.params.star_arg, function.params.star_kwarg):
                if isinstance(star, cst.Param):
                    params.add(star.name.value)
        owner = function if function is not None else module.file.module
        assigned = self._assignments_of(owner, body)
        local_opaque = self._opaque_of(owner, body)
        opaque = local_opaque | params
        mutated = self._mutated_of(owner, body)
        outer = self.scope(module, None) if function is not None else None
        # A module-level function's parameters (not rebound in its body) are what its one call passes.
        helper = module.functions.get(function.name.value) if function is not None and bound is None else None
        if helper is not None and helper.node is not function:
            helper = None
        evaluator: ConstantEvaluator

        def names(name: str, depth: int) -> object:
            if bound is not None and name in bound:
                return bound[name]
            if helper is not None and name in params and name not in local_opaque and name not in assigned:
                return self.parameter_value(helper, name, depth)
            if name in opaque:
                return UNKNOWN
            values = assigned.get(name)
            if values is not None:
                value = self._single(evaluator, owner, name, values, depth)
                written = frozenset(attr for base, attr in mutated if base == name)
                if written and isinstance(value, (ObjectValue, NamespaceValue)):
                    # `cfg.hidden = 128` after `cfg = Config()`: that attribute is not the default.
                    return replace(value, unknown=value.unknown | written)
                return value
            if outer is not None:
                return outer.names(name, depth) if outer.names is not None else UNKNOWN
            return self.global_name(module, name, depth)

        def attribute(value: object, name: str) -> object:
            return self.attribute(value, name)

        owner_class = self.method_owner(function) if function is not None and bound is None else None
        evaluator = ConstantEvaluator(
            module, names=names, negation=True, arithmetic=True, dicts=True, comparisons=True,
            attributes=attribute, calls=lambda call, depth: self.call_value(call, evaluator, module, depth),
            mutated=lambda base, attr: (base, attr) in mutated or (base, "*") in mutated,
            self_attribute=(None if owner_class is None
                            else lambda attr, depth: self.instance_attribute(owner_class, attr)),
        )
        if bound is None:
            self._scopes[key] = evaluator
        return evaluator

    def assigned_expression(self, module: ModuleInfo, node: cst.CSTNode, name: str) -> cst.BaseExpression | None:
        """The one expression bound to the local `name` in the function enclosing `node`
        (`encoder = MLPEncoder(...)` before `return Model(encoder)`); None for a parameter, a
        name bound twice, otherwise (a loop, unpacking, `global`) or with attributes written."""
        function = enclosing(module.file.parents.get(node), module.file.parents, cst.FunctionDef)
        if function is None or not isinstance(function.body, cst.IndentedBlock):
            return None
        if name in {p.name.value for p in function_params(function)}:
            return None
        body = function.body.body
        values = self._assignments_of(function, body).get(name)
        if values is None or len(values) != 1 or name in self._opaque_of(function, body):
            return None
        if any(base == name for base, _ in self._mutated_of(function, body)):
            return None
        return values[0]

    def _single(self, evaluator: ConstantEvaluator, owner: cst.CSTNode, name: str,
                values: list[cst.BaseExpression], depth: int) -> object:
        """A name assigned once, or always the same constant; UNKNOWN otherwise."""
        key = (id(owner), name)
        if key in self._active:
            return UNKNOWN
        self._active.add(key)
        try:
            results = [evaluator.evaluate(v, depth + 1) for v in values]
        finally:
            self._active.discard(key)
        first = results[0]
        if len(results) == 1:
            return first
        if first is UNKNOWN or isinstance(first, (ObjectValue, NamespaceValue)):
            return UNKNOWN
        return first if all(type(r) is type(first) and r == first for r in results) else UNKNOWN

    def global_name(self, module: ModuleInfo, name: str, depth: int = 0) -> object:
        """A module-level name of `module`: an import, a class, an assignment."""
        if name in module.imports or name in module.classes:
            return self.reference(module.resolve_expr(cst.Name(name)) or name, depth)
        if name in module.functions:
            return Reference(f"{module.name}.{name}")
        if name in module.assignments:
            return self.scope(module, None).evaluate(cst.Name(name), depth + 1)
        return UNKNOWN

    def reference(self, qualname: str, depth: int = 0) -> object:
        """What a qualified name denotes: a class, a module-level value of a project module, or
        a Reference (a module, or something dp-lint does not read)."""
        qualname = self.index.canonical(qualname)
        if tk.torch_class_name(qualname) is not None:
            return ClassValue(qualname)
        cls = self.index.lookup_class(qualname)
        if cls is not None:
            return ClassValue(cls.qualname, cls)
        module, _, symbol = qualname.rpartition(".")
        info = self.index.modules.get(module)
        if info is not None and symbol in info.assignments and depth < 12:
            return self.scope(info, None).evaluate(cst.Name(symbol), depth + 1)
        return Reference(qualname)

    # -- parameters of helpers ---------------------------------------------------------

    def parameter_value(self, function: FunctionInfo, name: str, depth: int) -> object:
        """A parameter of a module-level project function called exactly once in the project,
        and never used as a value (a callback, a registry entry): what that call passes, else
        the parameter's default. UNKNOWN otherwise."""
        call = self._only_call(function)
        if call is None or depth > 12:
            return UNKNOWN
        key = (id(function.node), f"<param {name}>")
        if key in self._active:
            return UNKNOWN
        caller_module, site = call
        caller = self.at(caller_module, site)
        module = function.module

        def default(param: cst.Param | None) -> object:
            if param is None or param.default is None:
                return UNKNOWN
            return self.scope(module, None).evaluate(param.default)

        self._active.add(key)
        try:
            bound = bind_call(function.node, site, lambda expr: caller.evaluate(expr, depth + 1), default)
        finally:
            self._active.discard(key)
        return bound.get(name, UNKNOWN)

    def _only_call(self, function: FunctionInfo) -> tuple[ModuleInfo, cst.Call] | None:
        key = id(function.node)
        if key not in self._calls_of:
            self._calls_of[key] = self._read_only_call(function)
        return self._calls_of[key]

    def _read_only_call(self, function: FunctionInfo) -> tuple[ModuleInfo, cst.Call] | None:
        if function.node.decorators:
            return None  # `@hydra.main`, `@click.command`: the framework calls it with other arguments
        found: list[tuple[ModuleInfo, cst.Call]] = []
        for module in self.index.by_file.values():
            if function.name not in module.file.text:
                continue
            parents = module.file.parents
            for node in _nodes(module.file.module):
                if not isinstance(node, cst.Name) or node.value != function.name:
                    continue
                parent = parents.get(node)
                if isinstance(parent, (cst.FunctionDef, cst.ImportAlias)) or (
                        isinstance(parent, cst.Attribute) and parent.attr is node
                        and isinstance(parents.get(parent), (cst.ImportAlias, cst.ImportFrom))):
                    continue
                use = parent if isinstance(parent, cst.Attribute) and parent.attr is node else node
                dotted = dotted_name(use)
                qualname = module.resolve_expr(use) if dotted and module.binds(dotted) else None
                if qualname is None or self.index.lookup_function(qualname) is not function:
                    continue  # another function of that name, or an attribute of some other object
                call = parents.get(use)
                if isinstance(call, cst.Call) and call.func is use:
                    found.append((module, call))
                    continue
                return None  # used as a value (a callback, a registry entry): other callers may exist
        return found[0] if len(found) == 1 else None

    # -- instances of plain classes ----------------------------------------------------

    def method_owner(self, function: cst.FunctionDef) -> ClassInfo | None:
        """The project class `function` is a method of (None: a plain function)."""
        if self._methods is None:
            self._methods = {id(method.node): cls for cls in self.index.classes() for method in cls.methods.values()}
        return self._methods.get(id(function))

    def instance_attribute(self, cls: ClassInfo, name: str) -> object:
        """`self.cfg` in a method of a plain (non-module) class the project builds exactly once
        (`Trainer(model, cfg, loader)`): what `__init__` stores there from that call. UNKNOWN for
        module classes, classes with subclasses or several (or no) constructions, and attributes
        another method also writes (`self.model = make_private(...)` in `setup()`)."""
        if any(_rebinds_self(method, name) for c in self.index.mro(cls) for m, method in c.methods.items()
               if m != "__init__"):
            return UNKNOWN
        instance = self._instance(cls)
        return self.object_attribute(instance, name) if isinstance(instance, ObjectValue) else UNKNOWN

    def _instance(self, cls: ClassInfo) -> object:
        key = id(cls)
        if key not in self._instances:
            self._instances[key] = UNKNOWN
            self._instances[key] = self._read_instance(cls)
        return self._instances[key]

    def _read_instance(self, cls: ClassInfo) -> object:
        if _is_module_class(cls, self.index) or self.index.all_subclasses(cls):
            return UNKNOWN
        found: list[tuple[ModuleInfo, cst.Call]] = []
        for module in self.index.by_file.values():
            if cls.name not in module.file.text:
                continue
            for call in _calls(module.file.module):
                qualname = module.resolve_expr(call.func) if dotted_name(call.func) else None
                if qualname is not None and self.index.lookup_class(qualname) is cls:
                    found.append((module, call))
        if len(found) != 1:
            return UNKNOWN  # built several times (or never): which instance a method sees is not known
        module, call = found[0]
        evaluator = self.at(module, call)
        return ObjectValue(cls, call, lambda expr: evaluator.evaluate(expr))

    # -- attributes -----------------------------------------------------------------

    def attribute(self, value: object, name: str) -> object:
        if isinstance(value, Reference):
            return self.reference(f"{value.qualname}.{name}")
        if isinstance(value, (NamespaceValue, ObjectValue)) and (name in value.unknown or "*" in value.unknown):
            return UNKNOWN
        if isinstance(value, NamespaceValue):
            return value.entries.get(name, UNKNOWN)
        if isinstance(value, ObjectValue):
            return self.object_attribute(value, name)
        if isinstance(value, ClassValue) and value.cls is not None and not value.preset:
            default = _class_attribute(value.cls, name, self.index)
            if default is not None:
                return self.scope(default[1].module, None).evaluate(default[0])
        return UNKNOWN

    def object_attribute(self, obj: ObjectValue, name: str) -> object:
        """`cfg.hidden` for `cfg = Config(...)`: the argument passed, else the default; for a
        class whose `__init__` stores its parameters (`self.hidden = hidden`), what it stores."""
        key = (id(obj), name)
        if key in self._active:
            return UNKNOWN
        self._active.add(key)
        try:
            return self._object_attribute(obj, name)
        finally:
            self._active.discard(key)

    def _object_attribute(self, obj: ObjectValue, name: str) -> object:
        mro = self.index.mro(obj.cls)
        if any("__post_init__" in c.methods and _writes_self(c.methods["__post_init__"], name) for c in mro):
            return UNKNOWN
        if any(m in c.methods for c in mro for m in ("__getattr__", "__getattribute__", "__setattr__")):
            return UNKNOWN
        if _is_record(obj.cls, self.index):
            fields = _record_fields(obj.cls, self.index)
            names = [f for f, _, _ in fields]
            if name not in names:
                return UNKNOWN
            passed = argument(obj.call, name, names.index(name))
            if passed is not None:
                return obj.arguments(passed)
            if any(a.star for a in obj.call.args):
                return UNKNOWN
            _, default, owner = next(f for f in fields if f[0] == name)
            return self._field_default(default, owner)
        init_owner = next((c for c in mro if "__init__" in c.methods), None)
        if init_owner is not None:
            init = init_owner.methods["__init__"]
            writes = _self_writes(init, name)
            if len(writes) > 1 or _writes_self_dynamically(init):
                return UNKNOWN
            if writes:
                module = init_owner.module

                def default_of(param: cst.Param | None) -> object:
                    if param is None or param.default is None:
                        return UNKNOWN
                    return self.scope(module, None).evaluate(param.default)

                bound = bind_call(init.node, obj.call, obj.arguments, default_of, skip_self=True)
                evaluator = self.scope(module, init.node, bound)
                inner = ConstantEvaluator(
                    module, names=evaluator.names, negation=True, arithmetic=True, dicts=True, comparisons=True,
                    attributes=evaluator.attributes, calls=evaluator.calls,
                    self_attribute=lambda attr, depth: self.object_attribute(obj, attr),
                )
                return inner.evaluate(writes[0])
            if any(_writes_self(c.methods[m], name) for c in mro for m in c.methods if m != "__init__"):
                return UNKNOWN
        found = _class_attribute(obj.cls, name, self.index)
        if found is None:
            return UNKNOWN
        return self._field_default(found[0], found[1])

    def _field_default(self, default: cst.BaseExpression | None, owner: ClassInfo) -> object:
        if default is None:
            return UNKNOWN
        if isinstance(default, cst.Call) and (dotted_name(default.func) or "").split(".")[-1] == "field":
            value = argument(default, "default")
            return self.scope(owner.module, None).evaluate(value) if value is not None else UNKNOWN
        return self.scope(owner.module, None).evaluate(default)

    # -- calls ------------------------------------------------------------------------

    def call_value(self, call: cst.Call, evaluator: ConstantEvaluator, module: ModuleInfo, depth: int) -> object:
        """The value a call gives: partial(...), getattr(...), dict(...), SimpleNamespace(...),
        a config object, parser.parse_args(), copy.deepcopy(x), a project function's return."""
        if depth > 12:
            return UNKNOWN
        func = call.func
        name = dotted_name(func)
        qualname = module.resolve_expr(func) if name else None
        if isinstance(func, cst.Attribute) and func.attr.value == "parse_args" and _command_line(call):
            return self.argparse(module)
        if name == "getattr" and len(call.args) in (2, 3) and not any(a.star for a in call.args):
            base = evaluator.evaluate(call.args[0].value, depth + 1)
            key = evaluator.evaluate(call.args[1].value, depth + 1)
            if isinstance(key, str) and base is not UNKNOWN:
                found = self.attribute(base, key)
                if isinstance(found, ClassValue):
                    return ClassValue(found.qualname, found.cls, found.preset, "getattr")
                return found
            return UNKNOWN
        if name == "dict" or qualname in {"collections.OrderedDict", "OrderedDict"}:
            result: dict[str, object] = {}
            for arg in call.args:
                if arg.star == "**" or (arg.keyword is None and not arg.star and name == "dict" and len(call.args) == 1):
                    inner = evaluator.evaluate(arg.value, depth + 1)
                    if not isinstance(inner, dict):
                        return UNKNOWN
                    result.update(inner)
                elif arg.keyword is not None:
                    result[arg.keyword.value] = evaluator.evaluate(arg.value, depth + 1)
                else:
                    return UNKNOWN
            return result
        if qualname in {"copy.deepcopy", "copy.copy", "deepcopy"} and len(call.args) == 1:
            return evaluator.evaluate(call.args[0].value, depth + 1)
        if qualname in _PARTIAL and call.args and not call.args[0].keyword and not call.args[0].star:
            target = evaluator.evaluate(call.args[0].value, depth + 1)
            if not isinstance(target, ClassValue) or any(a.star for a in call.args[1:]):
                return UNKNOWN
            preset = [(a.keyword.value if a.keyword is not None else None, evaluator.evaluate(a.value, depth + 1))
                      for a in call.args[1:]]
            return ClassValue(target.qualname, target.cls, (*target.preset, *preset), "functools.partial")
        if qualname in _NAMESPACES or name in _NAMESPACES:
            entries: dict[str, object] = {}
            for arg in call.args:
                if arg.keyword is not None:
                    entries[arg.keyword.value] = evaluator.evaluate(arg.value, depth + 1)
                elif arg.star == "**":
                    inner = evaluator.evaluate(arg.value, depth + 1)
                    if not isinstance(inner, dict):
                        return UNKNOWN
                    entries.update(inner)
                else:
                    return UNKNOWN
            return NamespaceValue(entries, "SimpleNamespace")
        callee = evaluator.evaluate(func, depth + 1)
        if isinstance(callee, ClassValue) and callee.cls is not None:
            if _is_module_class(callee.cls, self.index):
                return UNKNOWN  # a module, not a value (the layer tree reads it)
            # A config class with `functools.partial`'s preset arguments: they are literals in the call.
            return ObjectValue(callee.cls, preset_call(call, callee.preset),
                               lambda expr: evaluator.evaluate(expr, depth + 1))
        function = self.index.lookup_function(qualname) if qualname and name and module.binds(name) else None
        if function is not None:
            return self.returned(function, call, evaluator, depth)
        return UNKNOWN

    def returned(self, function: FunctionInfo, call: cst.Call, caller: ConstantEvaluator, depth: int) -> object:
        """What a project function returns for this call: its single `return <expr>`."""
        returns = [s for stmt in walk_statements(_body(function.node)) if isinstance(stmt, cst.SimpleStatementLine)
                   for s in stmt.body if isinstance(s, cst.Return)]
        if len(returns) != 1 or returns[0].value is None or function.node.asynchronous is not None:
            return UNKNOWN
        key = (id(function.node), "<return>")
        if key in self._active:
            return UNKNOWN
        module = function.module

        def default(param: cst.Param | None) -> object:
            if param is None or param.default is None:
                return UNKNOWN
            return self.scope(module, None).evaluate(param.default)

        bound = bind_call(function.node, call, lambda expr: caller.evaluate(expr, depth + 1), default)
        self._active.add(key)
        try:
            return self.scope(module, function.node, bound).evaluate(returns[0].value, depth + 1)
        finally:
            self._active.discard(key)

    # -- argparse -------------------------------------------------------------------

    def argparse(self, module: ModuleInfo) -> object:
        """The defaults of the module's `add_argument` calls, as `parse_args()` returns them when
        the command line overrides nothing; UNKNOWN with several parsers or sub-commands."""
        key = id(module)
        if key not in self._argparse:
            self._argparse[key] = UNKNOWN
            self._argparse[key] = self._read_argparse(module)
        return self._argparse[key]

    def _read_argparse(self, module: ModuleInfo) -> object:
        text = module.file.text
        if text.count("ArgumentParser(") != 1 or "add_subparsers" in text or "parse_known_args" in text:
            return UNKNOWN
        entries: dict[str, object] = {}
        overrides: dict[str, object] = {}
        for call in _calls(module.file.module):
            if not isinstance(call.func, cst.Attribute):
                continue
            method = call.func.attr.value
            evaluator = self.at(module, call)
            if method == "set_defaults":
                for arg in call.args:
                    if arg.keyword is None:
                        return UNKNOWN
                    overrides[arg.keyword.value] = evaluator.evaluate(arg.value)
                continue
            if method != "add_argument":
                continue
            if any(a.star for a in call.args):
                return UNKNOWN
            options = [evaluator.evaluate(a.value) for a in call.args if a.keyword is None]
            dest = argument(call, "dest")
            if dest is not None:
                name = evaluator.evaluate(dest)
            else:
                long = [o for o in options if isinstance(o, str) and o.startswith("--")]
                short = [o for o in options if isinstance(o, str) and o.startswith("-")]
                flags: list[str] = long or short
                name = flags[0].lstrip("-").replace("-", "_") if flags else None
                if not long and not short:
                    continue  # a positional argument: given on every command line
            if not isinstance(name, str):
                return UNKNOWN
            entries[name] = self._argparse_default(call, evaluator)
        entries.update(overrides)
        return NamespaceValue(entries, "argparse defaults")

    def _argparse_default(self, call: cst.Call, evaluator: ConstantEvaluator) -> object:
        action = argument(call, "action")
        action_value = evaluator.evaluate(action) if action is not None else "store"
        given = argument(call, "default")
        if action_value == "store_true":
            return evaluator.evaluate(given) if given is not None else False
        if action_value == "store_false":
            return evaluator.evaluate(given) if given is not None else True
        if action_value not in ("store", "store_const", "append", "count") or argument(call, "required") is not None:
            return UNKNOWN
        if given is None:
            # `choices=[...]` without a default: None is none of the choices, the command line is
            # expected to name one (argparse only enforces it with `required=True`).
            return UNKNOWN if argument(call, "choices") is not None else None
        value = evaluator.evaluate(given)
        converter = argument(call, "type")
        if isinstance(value, str) and converter is not None and action_value == "store":
            conversion = _TYPE_CONVERSIONS.get(dotted_name(converter) or "")
            if conversion is None:
                return UNKNOWN  # argparse applies `type` to a string default
            try:
                return conversion(value)
            except ValueError:
                return UNKNOWN
        return value

    # -- scope facts ------------------------------------------------------------------

    def _assignments_of(self, owner: cst.CSTNode, body: Sequence[cst.CSTNode]) -> dict[str, list[cst.BaseExpression]]:
        key = id(owner)
        if key not in self._assignments:
            self._assignments[key] = assignments_in(body)
        return self._assignments[key]

    def _opaque_of(self, owner: cst.CSTNode, body: Sequence[cst.CSTNode]) -> set[str]:
        """Names bound otherwise than by `name = value` (loops, with, augmented assignments,
        unpacking of unknown values, globals): their value is unknown."""
        key = id(owner)
        if key in self._opaque:
            return self._opaque[key]
        names: set[str] = set()

        def targets(expr: cst.CSTNode) -> None:
            names.update(target_names(expr))

        for stmt in walk_statements(body):
            if isinstance(stmt, cst.For):
                targets(stmt.target)
            elif isinstance(stmt, cst.With):
                for item in stmt.items:
                    if item.asname is not None:
                        targets(item.asname.name)
            elif isinstance(stmt, cst.SimpleStatementLine):
                for small in stmt.body:
                    if isinstance(small, cst.AugAssign):
                        targets(small.target)
                    elif isinstance(small, (cst.Global, cst.Nonlocal)):
                        names.update(n.name.value for n in small.names)
                    elif isinstance(small, cst.Assign):
                        for target in small.targets:
                            if isinstance(target.target, (cst.Tuple, cst.List)) and not isinstance(small.value, (cst.Tuple, cst.List)):
                                targets(target.target)
        self._opaque[key] = names
        return names

    def _mutated_of(self, owner: cst.CSTNode, body: Sequence[cst.CSTNode]) -> set[tuple[str, str]]:
        """(name, attribute) pairs written after construction (`cfg.hidden = 128`); (name, "*")
        for `setattr(cfg, ...)`, `vars(cfg)`, `cfg.__dict__`, `cfg.update(...)`."""
        key = id(owner)
        if key in self._mutated:
            return self._mutated[key]
        found: set[tuple[str, str]] = set()
        for stmt in walk_statements(body):
            if not isinstance(stmt, cst.SimpleStatementLine):
                continue
            for small in stmt.body:
                targets: list[cst.BaseExpression] = []
                if isinstance(small, cst.Assign):
                    targets = [t.target for t in small.targets]
                elif isinstance(small, (cst.AugAssign, cst.AnnAssign)):
                    targets = [small.target]
                for target in targets:
                    if isinstance(target, cst.Attribute) and isinstance(target.value, cst.Name):
                        found.add((target.value.value, target.attr.value))
                    elif isinstance(target, cst.Subscript) and isinstance(target.value, cst.Name):
                        found.add((target.value.value, "*"))
            for call in _calls(stmt):
                func = call.func
                name = dotted_name(func)
                if name in {"setattr", "vars", "delattr"} and call.args and isinstance(call.args[0].value, cst.Name):
                    found.add((call.args[0].value.value, "*"))
                elif (isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name)
                      and func.attr.value in {"update", "merge_from_file", "merge_from_list", "setdefault", "pop"}):
                    found.add((func.value.value, "*"))
        self._mutated[key] = found
        return found


def _command_line(call: cst.Call) -> bool:
    """`parse_args()` or `parse_args(argv)`: the arguments are the command line (`argv` of a
    `main(argv=None)`), whose defaults hold when it overrides nothing, as for `parse_args()`;
    not an explicit list of options written in the call (`parse_args(["--lr", "0.1"])`)."""
    if not call.args:
        return True
    if len(call.args) != 1 or call.args[0].star or (call.args[0].keyword is not None
                                                     and call.args[0].keyword.value != "args"):
        return False
    value = call.args[0].value
    if isinstance(value, (cst.List, cst.Tuple)):
        return not value.elements
    return not isinstance(value, (cst.SimpleString, cst.ConcatenatedString, cst.FormattedString))


def _body(node: cst.FunctionDef) -> Sequence[cst.BaseStatement]:
    return node.body.body if isinstance(node.body, cst.IndentedBlock) else []


def _calls(node: cst.CSTNode) -> list[cst.Call]:
    found: list[cst.Call] = []
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, cst.Call):
            found.append(current)
        stack.extend(current.children)
    found.reverse()
    return found


def _is_module_class(cls: ClassInfo, index: ProjectIndex) -> bool:
    seen: set[int] = set()
    stack = [cls]
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        for name in current.base_names:
            if tk.is_module_base(name):
                return True
            base = index.lookup_class(name)
            if base is not None:
                stack.append(base)
    return False


def _is_record(cls: ClassInfo, index: ProjectIndex) -> bool:
    """A dataclass or NamedTuple: constructed with its fields, in order."""
    for c in index.mro(cls):
        for decorator in c.node.decorators:
            expr = decorator.decorator.func if isinstance(decorator.decorator, cst.Call) else decorator.decorator
            if (c.module.resolve_expr(expr) or "") in _DATACLASS_DECORATORS or dotted_name(expr) in _DATACLASS_DECORATORS:
                return True
        if any(n in {"typing.NamedTuple", "NamedTuple", "typing_extensions.NamedTuple"} for n in c.base_names):
            return True
    return False


def _record_fields(cls: ClassInfo, index: ProjectIndex) -> list[tuple[str, cst.BaseExpression | None, ClassInfo]]:
    """(name, default, class) of a dataclass's fields, base classes first."""
    fields: dict[str, tuple[str, cst.BaseExpression | None, ClassInfo]] = {}
    for c in reversed(index.mro(cls)):
        for stmt in c.node.body.body if isinstance(c.node.body, cst.IndentedBlock) else []:
            if isinstance(stmt, cst.SimpleStatementLine):
                for small in stmt.body:
                    if isinstance(small, cst.AnnAssign) and isinstance(small.target, cst.Name):
                        annotation = dotted_name(small.annotation.annotation) or ""
                        if annotation.split(".")[-1] == "ClassVar" or annotation.startswith("ClassVar"):
                            continue
                        fields[small.target.value] = (small.target.value, small.value, c)
    return list(fields.values())


def _class_attribute(cls: ClassInfo, name: str, index: ProjectIndex) -> tuple[cst.BaseExpression, ClassInfo] | None:
    """A class-level `name = value` (or `name: T = value`), nearest class first."""
    for c in index.mro(cls):
        found = None
        for stmt in c.node.body.body if isinstance(c.node.body, cst.IndentedBlock) else []:
            if isinstance(stmt, cst.SimpleStatementLine):
                for small in stmt.body:
                    if isinstance(small, cst.Assign) and any(
                            isinstance(t.target, cst.Name) and t.target.value == name for t in small.targets):
                        found = small.value
                    elif isinstance(small, cst.AnnAssign) and isinstance(small.target, cst.Name) \
                            and small.target.value == name and small.value is not None:
                        found = small.value
            elif isinstance(stmt, (cst.FunctionDef, cst.ClassDef)) and stmt.name.value == name:
                return None
        if found is not None:
            return found, c
    return None


def _unpacks_self(target: cst.Tuple | cst.List, name: str) -> bool:
    """Does the unpacking target bind `self.<name>` (`self.model, self.optimizer, loader = ...`)? An element
    that is no plain name or attribute (a subscript, a starred expression) may bind anything."""
    for element in target.elements:
        value = element.value
        if isinstance(value, (cst.Tuple, cst.List)):
            if _unpacks_self(value, name):
                return True
        elif isinstance(value, cst.Attribute):
            if is_self(value.value) and value.attr.value == name:
                return True
        elif not isinstance(value, cst.Name):
            return True
    return False


def _self_writes(function: FunctionInfo, name: str) -> list[cst.BaseExpression]:
    """Every value `function` assigns to `self.<name>`; a write it cannot read counts too."""
    found: list[cst.BaseExpression] = []
    for stmt in walk_statements(_body(function.node)):
        if not isinstance(stmt, cst.SimpleStatementLine):
            if isinstance(stmt, (cst.For, cst.While, cst.If, cst.Try, cst.With)):
                continue
            continue
        for small in stmt.body:
            if isinstance(small, (cst.Assign, cst.AnnAssign, cst.AugAssign)):
                targets = [t.target for t in small.targets] if isinstance(small, cst.Assign) else [small.target]
                for target in targets:
                    if isinstance(target, cst.Attribute) and is_self(target.value) and target.attr.value == name:
                        if isinstance(small, cst.AugAssign) or small.value is None:
                            found.extend([cst.Name("__unknown__"), cst.Name("__unknown__")])
                        else:
                            found.append(small.value)
                    elif isinstance(target, (cst.Tuple, cst.List)) and _unpacks_self(target, name):
                        found.extend([cst.Name("__unknown__"), cst.Name("__unknown__")])
    # A write inside a branch or loop is one of several possible values.
    nested = [s for s in walk_statements(_body(function.node)) if isinstance(s, cst.SimpleStatementLine)
              and s not in _body(function.node)]
    for stmt in nested:
        for small in stmt.body:
            if isinstance(small, cst.Assign) and any(
                    isinstance(t.target, cst.Attribute) and is_self(t.target.value) and t.target.attr.value == name
                    for t in small.targets):
                found.append(cst.Name("__unknown__"))
    return found


def _writes_self(function: FunctionInfo, name: str) -> bool:
    return bool(_self_writes(function, name))


def _rebinds_self(function: FunctionInfo, name: str) -> bool:
    """Whether `function` may rebind `self.<name>`: an assignment (also inside a tuple target,
    `self.model, self.opt = ...`), an augmented assignment, or a dynamic write."""
    def binds(target: cst.CSTNode) -> bool:
        if isinstance(target, cst.Attribute):
            return is_self(target.value) and target.attr.value == name
        if isinstance(target, (cst.Tuple, cst.List)):
            return any(binds(e.value) for e in target.elements)
        return isinstance(target, cst.StarredElement) and binds(target.value)

    for node in _nodes(function.node):
        if isinstance(node, cst.Assign) and any(binds(t.target) for t in node.targets):
            return True
        if isinstance(node, (cst.AnnAssign, cst.AugAssign, cst.For, cst.WithItem)):
            target = node.asname.name if isinstance(node, cst.WithItem) and node.asname else getattr(node, "target", None)
            if target is not None and binds(target):
                return True
    return _writes_self_dynamically(function)


def _nodes(root: cst.CSTNode) -> list[cst.CSTNode]:
    found: list[cst.CSTNode] = []
    stack = [root]
    while stack:
        current = stack.pop()
        found.append(current)
        stack.extend(current.children)
    return found


def _writes_self_dynamically(function: FunctionInfo) -> bool:
    code = cst.Module([]).code_for_node(function.node)
    return "setattr(self" in code or "self.__dict__" in code

"""Opacus engine calls of the project and the model class each one wraps.

An engine call is `PrivacyEngine.make_private(...)`, `make_private_with_epsilon(...)` or
a `GradSampleModule*(...)` construction. For each: its `batch_first` (a literal,
Opacus' default `True` when absent, UNKNOWN when not resolvable) and the wrapped
model, followed back from the argument to its constructor call:

    model = TextClassifier(vocab_size=100)          # or build_model() returning one
    model = model.to(device)
    model, optimizer, loader = engine.make_private(module=model, ..., batch_first=False)

also through `netG, netD = Generator(), Discriminator()`, and through a helper's parameter
(`def run(model, loader): make_private(module=model, ...)` called as `run(SimSiam(), loader)`)
when every call of the helper passes the same model class.

Only files that mention one of the engine names are walked.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import TypeVar, cast

import libcst as cst

from dp_lint.analysis.constants import ConstantEvaluator, literal
from dp_lint.analysis.index import ClassInfo, FunctionInfo, ModuleInfo, ProjectIndex
from dp_lint.analysis.models import ModuleModels
from dp_lint.analysis.objects import ClassValue
from dp_lint.analysis.values import UNKNOWN, Constant, Unknown
from dp_lint.core.paths import display_path
from dp_lint.files.source import SourceFile
from dp_lint.files.syntax import (
    argument,
    assignments_in,
    calls_in,
    dotted_name,
    function_params,
    keyword_argument,
    target_names,
    walk_statements,
)


class EngineKind(str, Enum):
    """What wraps the model: a PrivacyEngine method, or a GradSampleModule class built directly.
    The value is the name as written in the source (messages show it)."""

    MAKE_PRIVATE = "make_private"
    MAKE_PRIVATE_WITH_EPSILON = "make_private_with_epsilon"
    GRAD_SAMPLE_MODULE = "GradSampleModule"
    GRAD_SAMPLE_MODULE_FAST_GRADIENT_CLIPPING = "GradSampleModuleFastGradientClipping"
    GRAD_SAMPLE_MODULE_EXPANDED_WEIGHTS = "GradSampleModuleExpandedWeights"
    GRAD_SAMPLE_MODULE_NO_OP = "GradSampleModuleNoOp"
    GRAD_SAMPLE_MODULE_FAST_GRADIENT_CLIPPING_TP = "GradSampleModuleFastGradientClippingTP"

    def __str__(self) -> str:
        return self.value

    @property
    def makes_private(self) -> bool:
        """`make_private*` (which also runs ModuleValidator), not a bare GradSampleModule."""
        return self in MAKE_PRIVATE


class GradSampleMode(str, Enum):
    """Opacus' `grad_sample_mode` (make_private's keyword; each GradSampleModule class stands for one)."""

    HOOKS = "hooks"
    FUNCTORCH = "functorch"
    EW = "ew"
    GHOST = "ghost"
    GHOST_FSDP = "ghost_fsdp"
    NO_OP = "no_op"

    def __str__(self) -> str:
        return self.value


class LossReduction(str, Enum):
    """Opacus' `loss_reduction`: how the loss combines the samples of a batch."""

    MEAN = "mean"
    SUM = "sum"

    def __str__(self) -> str:
        return self.value


MAKE_PRIVATE = frozenset({EngineKind.MAKE_PRIVATE, EngineKind.MAKE_PRIVATE_WITH_EPSILON})
GRAD_SAMPLE_MODULES = frozenset(kind for kind in EngineKind if kind not in MAKE_PRIVATE)
_MENTIONS = ("make_private", "GradSampleModule")
# The grad_sample_mode each GradSampleModule class stands for.
_GSM_MODES = {
    EngineKind.GRAD_SAMPLE_MODULE: GradSampleMode.HOOKS,
    EngineKind.GRAD_SAMPLE_MODULE_EXPANDED_WEIGHTS: GradSampleMode.EW,
    EngineKind.GRAD_SAMPLE_MODULE_FAST_GRADIENT_CLIPPING: GradSampleMode.GHOST,
    EngineKind.GRAD_SAMPLE_MODULE_FAST_GRADIENT_CLIPPING_TP: GradSampleMode.GHOST,
    EngineKind.GRAD_SAMPLE_MODULE_NO_OP: GradSampleMode.NO_OP,
}
_T = TypeVar("_T")
# Names assigned in a scope, each with every value assigned to it (`assignments_in`).
Scope = dict[str, list[cst.BaseExpression]]
# `guarded(what, compute, fallback)` of the Project: errors on unexpected code are contained.
Guard = Callable[[str, Callable[[], _T], _T], _T]
# Calls that return (a version of) the module they are given.
_PASS_THROUGH_METHODS = frozenset({"to", "cuda", "cpu", "train", "float", "double", "half", "bfloat16", "requires_grad_"})
_PASS_THROUGH_FUNCTIONS = frozenset({"fix", "ModuleValidator.fix", "opacus.validators.ModuleValidator.fix", "convert_batchnorm_modules"})


@dataclass(frozen=True)
class ResolvedModel:
    """The model class handed to an engine, with the constructor call that builds it."""

    cls: ClassInfo
    call: cst.Call  # the model's constructor call, for its arguments
    module: ModuleInfo  # where that call is written


@dataclass(frozen=True)
class EngineCall:
    """One `make_private*(module=...)` call or `GradSampleModule*(...)` construction."""

    file: SourceFile
    node: cst.Call
    kind: EngineKind
    batch_first: bool | Unknown  # Opacus' default True when absent
    wrapped: ClassInfo | None  # the wrapped model's class; None: not resolved
    wrapped_call: cst.Call | None  # the model's constructor call, for its arguments
    wrapped_module: ModuleInfo | None
    # The model passes through `ModuleValidator.fix(...)` before the engine: BatchNorm,
    # nn.LSTM/GRU and nn.MultiheadAttention are replaced at run time.
    validator_fixed: bool = False
    # The engine's `loss_reduction` and `grad_sample_mode`: literals, Opacus' defaults when
    # absent, UNKNOWN when not resolvable; a string literal Opacus does not accept is kept
    # as written (a `str`), for `dp-lint verify` to report. Read by `dp-lint verify` to
    # wrap the model as training does.
    loss_reduction: LossReduction | str | Unknown = LossReduction.MEAN
    grad_sample_mode: GradSampleMode | str | Unknown = GradSampleMode.HOOKS
    # `if arch == "a": model = A() else: model = B()` before the engine: one EngineCall per
    # model class the argument may be, each naming all of them here (empty: only one).
    alternatives: tuple[str, ...] = ()
    # A `ModuleValidator.fix(...)` call on the way passes more than the model (`num_groups=`,
    # `replace_bn_with_in=`, `**kwargs`): what it makes of BatchNorm is not known.
    validator_fix_options: bool = False

    def alternative_text(self) -> str:
        """For messages: "when the model is A (one of A, B)", or "" when there is one model."""
        if not self.alternatives or self.wrapped is None:
            return ""
        return f" when the model is {self.wrapped.name} (one of {', '.join(self.alternatives)})"

    def label(self) -> str:
        """`path:line` of the call, for messages."""
        start, _ = self.file.span(self.node)
        return f"{display_path(self.file.path)}:{start.row}"

    def short_label(self, here: SourceFile | None = None) -> str:
        """For short messages: `"line 40"` when the call is in `here` (the file reported on),
        else `"train.py:40"` (the file's name only; `label()` gives the path, for help texts)."""
        start, _ = self.file.span(self.node)
        return f"line {start.row}" if here is self.file else f"{self.file.path.name}:{start.row}"


def find_engine_calls(index: ProjectIndex, models: ModuleModels, guarded: Guard[list[EngineCall]]) -> list[EngineCall]:
    """`guarded(what, compute, fallback)` contains errors on unexpected code, file by file."""
    found: list[EngineCall] = []
    for module in index.by_file.values():
        if not any(word in module.file.text for word in _MENTIONS):
            continue

        def scan(module: ModuleInfo = module) -> list[EngineCall]:
            finder = EngineFinder(index, models, module)
            finder.scan_scope(module.file.module.body, params=set())
            return finder.found

        found.extend(guarded(f"engine calls in {module.file.path}", scan, []))
    return found


class EngineFinder:
    """Finds the engine calls of one module (`scan_scope`) and the models they wrap."""

    def __init__(self, index: ProjectIndex, models: ModuleModels, module: ModuleInfo) -> None:
        self.index = index
        self.models = models
        self.module = module
        self.found: list[EngineCall] = []
        self.module_scope = assignments_in(module.file.module.body)
        self._validator_fixed = False
        self._fix_options = False

    def scan_scope(self, body: Sequence[cst.CSTNode], params: set[str], function: cst.FunctionDef | None = None) -> None:
        scope = assignments_in(body)
        for stmt in walk_statements(body):
            if isinstance(stmt, (cst.FunctionDef,)):
                inner = stmt.body.body if isinstance(stmt.body, cst.IndentedBlock) else []
                self.scan_scope(inner, {p.name.value for p in function_params(stmt)}, stmt)
            elif isinstance(stmt, cst.ClassDef):
                inner = stmt.body.body if isinstance(stmt.body, cst.IndentedBlock) else []
                self.scan_scope(inner, set())
            elif isinstance(stmt, cst.SimpleStatementLine):
                for call in calls_in(stmt):
                    self.found.extend(self._engine(call, scope, params, function))

    def _engine(self, call: cst.Call, scope: Scope, params: set[str],
                function: cst.FunctionDef | None = None) -> list[EngineCall]:
        func = call.func
        kind: EngineKind | None = None
        wrapped: cst.BaseExpression | None = None
        if isinstance(func, cst.Attribute) and func.attr.value in MAKE_PRIVATE:
            kind = EngineKind(func.attr.value)
            wrapped = keyword_argument(call, "module")
        else:
            qualname = self.module.resolve_expr(func) if dotted_name(func) else None
            last = qualname.rsplit(".", 1)[-1] if qualname else None
            if qualname is not None and last in GRAD_SAMPLE_MODULES and (qualname.startswith("opacus") or qualname == last):
                kind = EngineKind(last)
                wrapped = keyword_argument(call, "m")
                positional = [a for a in call.args if a.keyword is None and not a.star]
                if wrapped is None and positional:
                    wrapped = positional[0].value
        if kind is None:
            return []
        scope = self._reaching(scope, call, function)
        batch_first = self._batch_first(call, scope)
        loss_reduction = _enum_or_text(LossReduction, self._setting(call, scope, "loss_reduction", "mean", str))
        grad_sample_mode: GradSampleMode | str | Unknown
        if kind.makes_private:
            grad_sample_mode = _enum_or_text(GradSampleMode, self._setting(call, scope, "grad_sample_mode", "hooks", str))
        else:
            grad_sample_mode = _GSM_MODES.get(kind, GradSampleMode.HOOKS)
            if kind is EngineKind.GRAD_SAMPLE_MODULE:
                functorch = self._setting(call, scope, "force_functorch", False, bool)
                grad_sample_mode = (GradSampleMode.FUNCTORCH if functorch is True
                                    else grad_sample_mode if functorch is False else UNKNOWN)
        alternatives = self.resolve_alternatives(wrapped, scope, params, function)
        if alternatives:
            names = tuple(model.cls.name for model, _ in alternatives)
            return [
                EngineCall(self.module.file, call, kind, batch_first, model.cls, model.call, model.module,
                           fixed, loss_reduction, grad_sample_mode, names, validator_fix_options=self._fix_options)
                for model, fixed in alternatives
            ]
        self._validator_fixed = False
        self._fix_options = False
        model = self.resolve_model(wrapped, scope, params, self.module, 0, function)
        return [EngineCall(self.module.file, call, kind, batch_first,
                           model.cls if model else None, model.call if model else None, model.module if model else None,
                           self._validator_fixed, loss_reduction, grad_sample_mode,
                           validator_fix_options=self._fix_options)]

    def _reaching(self, scope: Scope, call: cst.Call, function: cst.FunctionDef | None) -> Scope:
        """The assignments of `scope` that can reach `call`: those written before its statement
        (`model = ModuleValidator.fix(model)` after `make_private(module=model)` does not change
        what was made private). Inside a loop every assignment may reach the next iteration."""
        parents = self.module.file.parents
        body = (function.body.body if function is not None and isinstance(function.body, cst.IndentedBlock)
                else self.module.file.module.body if function is None else [])
        order = {id(stmt): i for i, stmt in enumerate(walk_statements(body))}

        def position(node: cst.CSTNode) -> int | None:
            current: cst.CSTNode | None = node
            while current is not None and id(current) not in order:
                current = parents.get(current)
            return order[id(current)] if current is not None else None

        current: cst.CSTNode | None = parents.get(call)
        while current is not None and current is not function and not isinstance(current, cst.Module):
            if isinstance(current, (cst.For, cst.While)):
                return scope
            current = parents.get(current)
        here = position(call)
        if here is None:
            return scope
        reaching: Scope = {}
        for name, values in scope.items():
            kept = [v for v in values if (at := position(v)) is None or at < here]
            if kept:
                reaching[name] = kept
        return reaching

    def resolve_alternatives(self, expr: cst.BaseExpression | None, scope: Scope, params: set[str],
                             function: cst.FunctionDef | None) -> list[tuple[ResolvedModel, bool]]:
        """[(model, validator_fixed)] when `expr` is a name assigned different model classes (on
        branches dp-lint cannot decide), each assignment resolved; [] otherwise. Assignments that
        only pass the same name on (`model = model.to(device)`, `model = ModuleValidator.fix(model)`)
        apply to every alternative."""
        if not isinstance(expr, cst.Name):
            return []
        candidates = scope.get(expr.value)
        if candidates is None and function is None:
            candidates = self.module_scope.get(expr.value)
        if candidates:
            candidates = self._live(candidates, self.module)
        if not candidates or len(candidates) < 2:
            return []
        fixed_for_all = False
        found: dict[ClassInfo, tuple[ResolvedModel, bool]] = {}
        for candidate in candidates:
            passed_on, fixed, options = _passes_on(candidate, expr.value, self.module)
            self._fix_options = self._fix_options or options
            if passed_on:
                fixed_for_all = fixed_for_all or fixed
                continue
            self._validator_fixed = False
            model = self.resolve_model(candidate, scope, params, self.module, 1, function)
            if model is None:
                return []  # one branch builds something dp-lint cannot follow
            found.setdefault(model.cls, (model, self._validator_fixed))
        if len(found) < 2:
            return []
        return [(model, fixed or fixed_for_all) for model, fixed in found.values()]

    def _live(self, candidates: list[cst.BaseExpression], module: ModuleInfo) -> list[cst.BaseExpression]:
        """The assignments not on a branch whose `if` test is known to go the other way
        (`if args.arch == "resnet":` with argparse's default "mlp", `if False:`)."""
        parents = module.file.parents
        kept = []
        for candidate in candidates:
            node: cst.CSTNode | None = candidate
            live = True
            while node is not None and live and not isinstance(node, (cst.FunctionDef, cst.Module)):
                parent = parents.get(node)
                if isinstance(parent, cst.If) and node is not parent.test:
                    taken = node is parent.body
                    test = self.models.values.at(module, parent).evaluate(parent.test)
                    if test is not UNKNOWN and isinstance(test, (bool, int, float, str, type(None))):
                        live = bool(test) == taken
                node = parent
            if live:
                kept.append(candidate)
        return kept

    def _batch_first(self, call: cst.Call, scope: Scope) -> bool | Unknown:
        value = self._setting(call, scope, "batch_first", True, bool)
        return value if isinstance(value, bool) else UNKNOWN

    def _setting(self, call: cst.Call, scope: Scope, keyword: str, default: Constant, kind: type) -> Constant | Unknown:
        """A keyword argument of the engine call: its literal value (also through a local or
        module-level name assigned one literal), `default` when absent, else UNKNOWN."""
        value = keyword_argument(call, keyword)
        if value is None:
            return UNKNOWN if any(a.star == "**" for a in call.args) else default

        def assigned_once(name: str, depth: int) -> object:
            """A local (or module-level) name every assignment of which is the same literal."""
            candidates = scope.get(name) or self.module_scope.get(name) or []
            values = {literal(v, self.module) for v in candidates if not isinstance(v, cst.Name)} if candidates else set()
            return values.pop() if len(values) == 1 and UNKNOWN not in values else UNKNOWN

        result = ConstantEvaluator(self.module, names=assigned_once).evaluate(value)
        if result is UNKNOWN:
            # A config attribute, an argparse default, a value returned by a project function.
            result = self.models.values.at(self.module, call).evaluate(value)
        return cast(Constant, result) if isinstance(result, kind) else UNKNOWN

    def resolve_model(self, expr: cst.BaseExpression | None, scope: Scope, params: set[str],
                      module: ModuleInfo, depth: int, function: cst.FunctionDef | None = None) -> ResolvedModel | None:
        """The model class (and its constructor call) of the expression handed to the engine.
        `function` is the function whose body `scope` and `params` are (None: module level)."""
        none = None
        if expr is None or depth > 8:
            return none
        if isinstance(expr, cst.Call):
            func = expr.func
            if isinstance(func, cst.Attribute) and func.attr.value in _PASS_THROUGH_METHODS:
                return self.resolve_model(func.value, scope, params, module, depth + 1, function)
            name = dotted_name(func)
            qualname = module.resolve_expr(func) if name else None
            if qualname is None or (isinstance(func, cst.Name) and (func.value in scope or func.value in params)):
                # `MODELS[cfg.arch]()`, `getattr(models, name)()`, `model_cls()`: a class held in a value.
                value = self.models.values.at(module, expr).evaluate(func)
                if isinstance(value, ClassValue) and value.cls is not None and self.models.is_module_class(value.cls):
                    return ResolvedModel(value.cls, expr, module)
                return none
            if name in _PASS_THROUGH_FUNCTIONS or qualname.endswith("ModuleValidator.fix"):
                self._validator_fixed = True
                self._fix_options = self._fix_options or _fix_options(expr)
                first = expr.args[0].value if expr.args else None
                return self.resolve_model(first, scope, params, module, depth + 1, function)
            cls = self.index.lookup_class(qualname)
            if cls is not None and self.models.is_module_class(cls):
                return ResolvedModel(cls, expr, module)
            factory = self.index.lookup_function(qualname) if name is not None and module.binds(name) else None
            if factory is not None:
                return self.resolve_factory(factory, depth)
            built = self.models.classmethod_construction(qualname)
            if built is not None:
                return ResolvedModel(built[0], built[1], built[0].module)
            if name is not None and "." not in name and name in module.assignments:
                value = self.models.values.at(module, expr).evaluate(func)
                if isinstance(value, ClassValue) and value.cls is not None and self.models.is_module_class(value.cls):
                    return ResolvedModel(value.cls, expr, module)
            return none
        if (isinstance(expr, cst.Attribute) and isinstance(expr.value, cst.Name) and expr.value.value == "self"
                and function is not None):
            return self.resolve_self_attribute(function, expr.attr.value, module, depth)
        if isinstance(expr, cst.Name):
            candidates = scope.get(expr.value)
            if candidates and function is not None and expr.value in params:
                # `model = ModuleValidator.fix(model)` on a parameter: still what the callers pass.
                passing = [_passes_on(c, expr.value, module) for c in candidates]
                if all(passed for passed, _, _ in passing):
                    self._validator_fixed = self._validator_fixed or any(fixed for _, fixed, _ in passing)
                    self._fix_options = self._fix_options or any(options for _, _, options in passing)
                    candidates = None
            if candidates is None and function is not None and expr.value in params:
                # `def run(model, loader): make_private(module=model, ...)`: what the callers pass.
                return self.resolve_parameter(function, expr.value, module, depth)
            if candidates is None and module is self.module:
                candidates = self.module_scope.get(expr.value)
            if candidates is None:
                return self._resolve_unpacked(expr.value, module, depth, function)
            if not candidates:
                return none
            candidates = self._live(candidates, module)
            results = {self.resolve_model(c, scope, params, module, depth + 1, function)
                       for c in candidates if c is not expr}
            classes = {r.cls for r in results if r is not None}
            if len(classes) != 1:
                return none  # reassigned to different models: do not guess
            return next(r for r in results if r is not None)
        return none

    def resolve_self_attribute(self, method: cst.FunctionDef, attr: str, module: ModuleInfo, depth: int) -> ResolvedModel | None:
        """`make_private(module=self.model)` in a method of a trainer class: what its `__init__`
        stores in `self.model` (a construction, or a parameter every construction of the
        trainer passes the same model class for)."""
        owner = next((c for c in module.classes.values() if c.methods.get(method.name.value) is not None
                      and c.methods[method.name.value].node is method), None)
        if owner is None or self.models.is_module_class(owner):
            return None
        init = owner.methods.get("__init__")
        if init is None:
            return None
        body = init.node.body.body if isinstance(init.node.body, cst.IndentedBlock) else []
        writes = [small.value for stmt in walk_statements(body) if isinstance(stmt, cst.SimpleStatementLine)
                  for small in stmt.body if isinstance(small, cst.Assign)
                  for target in small.targets
                  if isinstance(target.target, cst.Attribute) and isinstance(target.target.value, cst.Name)
                  and target.target.value.value == "self" and target.target.attr.value == attr]
        if len(writes) != 1 or _assigns_self_elsewhere(owner, attr):
            return None
        scope = assignments_in(body)
        params = {p.name.value for p in init.params} - {"self"}
        value = writes[0]
        if isinstance(value, cst.Name) and value.value in params and value.value not in scope:
            return self._resolve_constructor_argument(owner, init, value.value, depth)
        return self.resolve_model(value, scope, params, module, depth + 1, init.node)

    def _resolve_constructor_argument(self, cls: ClassInfo, init: FunctionInfo, name: str, depth: int) -> ResolvedModel | None:
        """The model every construction of `cls` passes as `__init__` parameter `name`."""
        positional = [p.name.value for p in (*init.node.params.posonly_params, *init.node.params.params)][1:]
        position = positional.index(name) if name in positional else None
        results: set[ResolvedModel | None] = set()
        for caller, call, scope, caller_params, caller_function in self._call_sites(cls):
            value = argument(call, name, position)
            if value is None or any(a.star for a in call.args):
                return None
            results.add(self.resolve_model(value, scope, caller_params, caller, depth + 1, caller_function))
        if not results or any(r is None for r in results) or len({r.cls for r in results if r}) != 1:
            return None
        return next(iter(results))

    def resolve_parameter(self, node: cst.FunctionDef, name: str, module: ModuleInfo, depth: int) -> ResolvedModel | None:
        """The model every call of the module-level function `node` passes as parameter `name`:
        resolved only when the project calls it, always passes that argument, and every call
        passes the same model class."""
        info = module.functions.get(node.name.value)
        if info is None or info.node is not node:
            return None  # a method or a nested function: its callers are not followed
        params = function_params(node)
        positional = [p.name.value for p in (*node.params.posonly_params, *node.params.params)]
        position = positional.index(name) if name in positional else None
        results: set[ResolvedModel | None] = set()
        for caller, call, scope, caller_params, caller_function in self._call_sites(info):
            value = argument(call, name, position)
            if value is None or any(a.star for a in call.args):
                return None
            results.add(self.resolve_model(value, scope, caller_params, caller, depth + 1, caller_function))
        if not params or not results or any(r is None for r in results) or len({r.cls for r in results if r}) != 1:
            return None
        return next(iter(results))

    def _call_sites(self, function: FunctionInfo | ClassInfo) -> Iterator[tuple[ModuleInfo, cst.Call, Scope, set[str], cst.FunctionDef | None]]:
        """(module, call, scope, params, enclosing function) of every call of `function`."""
        for module in self.index.by_file.values():
            if function.name not in module.file.text:
                continue
            yield from self._calls_in_scope(module, module.file.module.body, set(), None, function)

    def _calls_in_scope(self, module: ModuleInfo, body: Sequence[cst.CSTNode], params: set[str],
                        enclosing: cst.FunctionDef | None, function: FunctionInfo | ClassInfo,
                        ) -> Iterator[tuple[ModuleInfo, cst.Call, Scope, set[str], cst.FunctionDef | None]]:
        scope = assignments_in(body)
        for stmt in walk_statements(body):
            if isinstance(stmt, (cst.FunctionDef, cst.ClassDef)):
                inner = stmt.body.body if isinstance(stmt.body, cst.IndentedBlock) else []
                if isinstance(stmt, cst.FunctionDef):
                    yield from self._calls_in_scope(module, inner, {p.name.value for p in function_params(stmt)}, stmt, function)
                else:
                    yield from self._calls_in_scope(module, inner, set(), None, function)
                continue
            for part in _own_expressions(stmt):
                for call in calls_in(part):
                    name = dotted_name(call.func)
                    qualname = module.resolve_expr(call.func) if name and module.binds(name) else None
                    if qualname is None:
                        continue
                    target = (self.index.lookup_class(qualname) if isinstance(function, ClassInfo)
                              else self.index.lookup_function(qualname))
                    if target is function:
                        yield module, call, scope, params, enclosing

    def _resolve_unpacked(self, name: str, module: ModuleInfo, depth: int,
                          function: cst.FunctionDef | None) -> ResolvedModel | None:
        """`netG, netD = build_models(opt)`: element `i` of what the project function returns
        (every `return` a tuple of that length whose element `i` is the same model class).
        Unpackings of the engine's own result (`model, optimizer, loader = make_private(...)`)
        rebind the same model and are skipped; any other unpacking makes the name unknown."""
        body = _function_body(function) if function is not None else module.file.module.body
        sources: list[tuple[cst.Call, int, int]] = []
        for stmt in walk_statements(body):
            if not isinstance(stmt, cst.SimpleStatementLine):
                continue
            for small in stmt.body:
                if not isinstance(small, cst.Assign):
                    continue
                for target in small.targets:
                    elements = target.target.elements if isinstance(target.target, (cst.Tuple, cst.List)) else ()
                    position = next((i for i, e in enumerate(elements)
                                     if isinstance(e.value, cst.Name) and e.value.value == name), None)
                    if position is None:
                        if name in target_names(target.target):
                            return None  # bound some other way (nested, starred)
                        continue
                    if isinstance(small.value, cst.Call) and _is_engine_result(small.value):
                        continue
                    if not isinstance(small.value, cst.Call) or any(isinstance(e, cst.StarredElement) for e in elements):
                        return None
                    sources.append((small.value, position, len(elements)))
        if len(sources) != 1:
            return None
        call, position, width = sources[0]
        qualname = module.resolve_expr(call.func) if dotted_name(call.func) else None
        factory = self.index.lookup_function(qualname) if qualname else None
        if factory is None:
            return None
        factory_body = _function_body(factory.node)
        scope = assignments_in(factory_body)
        params = {p.name.value for p in factory.params}
        results: set[ResolvedModel | None] = set()
        for stmt in walk_statements(factory_body):
            if isinstance(stmt, cst.SimpleStatementLine):
                for small in stmt.body:
                    if isinstance(small, cst.Return):
                        value = small.value
                        if not isinstance(value, cst.Tuple) or len(value.elements) != width:
                            return None
                        element = value.elements[position]
                        if isinstance(element, cst.StarredElement):
                            return None
                        results.add(self.resolve_model(element.value, scope, params, factory.module, depth + 1,
                                                       factory.node))
        classes = {r.cls for r in results if r is not None}
        if len(classes) != 1 or any(r is None for r in results):
            return None
        return next(iter(results))

    def resolve_factory(self, function: FunctionInfo, depth: int) -> ResolvedModel | None:
        body = function.node.body.body if isinstance(function.node.body, cst.IndentedBlock) else []
        scope = assignments_in(body)
        params = {p.name.value for p in function.params}
        results: set[ResolvedModel | None] = set()
        for stmt in walk_statements(body):
            if isinstance(stmt, cst.SimpleStatementLine):
                for small in stmt.body:
                    if isinstance(small, cst.Return) and small.value is not None:
                        results.add(self.resolve_model(small.value, scope, params, function.module, depth + 1))
        classes = {r.cls for r in results if r is not None}
        if len(classes) != 1 or any(r is None for r in results):
            return None
        return next(iter(results))


def _function_body(node: cst.FunctionDef) -> Sequence[cst.BaseStatement]:
    return node.body.body if isinstance(node.body, cst.IndentedBlock) else []


def _is_engine_result(call: cst.Call) -> bool:
    """`engine.make_private(...)` / `make_private_with_epsilon(...)`: the engine's own result."""
    return isinstance(call.func, cst.Attribute) and call.func.attr.value.startswith("make_private")


_E = TypeVar("_E", LossReduction, GradSampleMode)


def _enum_or_text(enum: type[_E], value: Constant | Unknown) -> _E | str | Unknown:
    """The enum member for a setting's literal; a string Opacus does not accept stays as written."""
    if isinstance(value, str):
        try:
            return enum(value)
        except ValueError:
            return value
    return UNKNOWN


def _assigns_self_elsewhere(cls: ClassInfo, attr: str) -> bool:
    """Does a method other than `__init__` assign `self.<attr>`?"""
    for name, method in cls.methods.items():
        if name == "__init__":
            continue
        for stmt in walk_statements(method.node.body.body if isinstance(method.node.body, cst.IndentedBlock) else []):
            if isinstance(stmt, cst.SimpleStatementLine):
                for small in stmt.body:
                    if isinstance(small, cst.Assign) and any(
                            isinstance(t.target, cst.Attribute) and isinstance(t.target.value, cst.Name)
                            and t.target.value.value == "self" and t.target.attr.value == attr
                            for t in small.targets):
                        return True
    return False


def _own_expressions(stmt: cst.CSTNode) -> list[cst.CSTNode]:
    """The parts of a statement that are not nested statement blocks (a compound
    statement's test, iterable or context managers; a simple statement whole)."""
    if isinstance(stmt, cst.SimpleStatementLine):
        return [stmt]
    if isinstance(stmt, (cst.If, cst.While)):
        return [stmt.test]
    if isinstance(stmt, cst.For):
        return [stmt.iter]
    if isinstance(stmt, cst.With):
        return [item.item for item in stmt.items]
    return []


def _fix_options(call: cst.Call) -> bool:
    """Does a `ModuleValidator.fix(...)` call pass more than the model?"""
    return len(call.args) != 1 or call.args[0].keyword is not None or bool(call.args[0].star)


def _passes_on(expr: cst.BaseExpression, name: str, module: ModuleInfo) -> tuple[bool, bool, bool]:
    """(is `expr` `name` passed through `.to(...)`/`ModuleValidator.fix(...)`..., went through a fix,
    a fix call passed options)."""
    fixed = options = False
    while isinstance(expr, cst.Call):
        func = expr.func
        if isinstance(func, cst.Attribute) and func.attr.value in _PASS_THROUGH_METHODS:
            expr = func.value
            continue
        qualname = module.resolve_expr(func) if dotted_name(func) else None
        if qualname is not None and (dotted_name(func) in _PASS_THROUGH_FUNCTIONS or qualname.endswith("ModuleValidator.fix")) and expr.args:
            fixed = True
            options = options or _fix_options(expr)
            expr = expr.args[0].value
            continue
        break
    return isinstance(expr, cst.Name) and expr.value == name, fixed, options

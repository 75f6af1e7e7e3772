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

from dataclasses import dataclass

import libcst as cst

from dp_lint.analysis.index import ClassInfo, FunctionInfo, ModuleInfo, ProjectIndex
from dp_lint.analysis.layers import UNKNOWN, literal
from dp_lint.analysis.models import ModuleModels
from dp_lint.core.paths import display_path
from dp_lint.files.source import SourceFile
from dp_lint.files.syntax import (
    argument,
    assignments_in,
    calls_in,
    dotted_name,
    function_params,
    keyword_argument,
    walk_statements,
)

MAKE_PRIVATE = frozenset({"make_private", "make_private_with_epsilon"})
GRAD_SAMPLE_MODULES = frozenset(
    {
        "GradSampleModule",
        "GradSampleModuleFastGradientClipping",
        "GradSampleModuleExpandedWeights",
        "GradSampleModuleNoOp",
        "GradSampleModuleFastGradientClippingTP",
    }
)
_MENTIONS = ("make_private", "GradSampleModule")
# The grad_sample_mode each GradSampleModule class stands for.
_GSM_MODES = {
    "GradSampleModule": "hooks",
    "GradSampleModuleExpandedWeights": "ew",
    "GradSampleModuleFastGradientClipping": "ghost",
    "GradSampleModuleFastGradientClippingTP": "ghost",
    "GradSampleModuleNoOp": "no_op",
}
# Calls that return (a version of) the module they are given.
_PASS_THROUGH_METHODS = frozenset({"to", "cuda", "cpu", "train", "float", "double", "half", "bfloat16", "requires_grad_"})
_PASS_THROUGH_FUNCTIONS = frozenset({"fix", "ModuleValidator.fix", "opacus.validators.ModuleValidator.fix", "convert_batchnorm_modules"})


@dataclass(frozen=True)
class EngineCall:
    file: SourceFile
    node: cst.Call
    kind: str  # "make_private", "GradSampleModule", ...
    batch_first: object  # True / False / UNKNOWN
    wrapped: ClassInfo | None
    wrapped_call: cst.Call | None  # the model's constructor call, for its arguments
    wrapped_module: ModuleInfo | None
    # The model passes through `ModuleValidator.fix(...)` before the engine: BatchNorm,
    # nn.LSTM/GRU and nn.MultiheadAttention are replaced at run time.
    validator_fixed: bool = False
    # The engine's `loss_reduction` ("mean" / "sum") and grad_sample_mode ("hooks",
    # "functorch", "ew", "ghost", ...): literals, Opacus' defaults when absent, UNKNOWN when
    # not resolvable. Read by `dp-lint verify` to wrap the model as training does.
    loss_reduction: object = "mean"
    grad_sample_mode: object = "hooks"
    # `if arch == "a": model = A() else: model = B()` before the engine: one EngineCall per
    # model class the argument may be, each naming all of them here (empty: only one).
    alternatives: tuple[str, ...] = ()

    def alternative_text(self) -> str:
        """For messages: "when the model is A (one of A, B)", or "" when there is one model."""
        if not self.alternatives or self.wrapped is None:
            return ""
        return f" when the model is {self.wrapped.name} (one of {', '.join(self.alternatives)})"

    def label(self) -> str:
        start, _ = self.file.span(self.node)
        return f"{display_path(self.file.path)}:{start.row}"


def find_engine_calls(index: ProjectIndex, models: ModuleModels, guarded) -> list[EngineCall]:
    """`guarded(what, compute, fallback)` contains errors on unexpected code, file by file."""
    found = []
    for module in index.by_file.values():
        if not any(word in module.file.text for word in _MENTIONS):
            continue

        def scan(module=module):
            finder = EngineFinder(index, models, module)
            finder.scan_scope(module.file.module.body, params=set())
            return finder.found

        found.extend(guarded(f"engine calls in {module.file.path}", scan, []))
    return found


class EngineFinder:
    def __init__(self, index: ProjectIndex, models: ModuleModels, module: ModuleInfo):
        self.index = index
        self.models = models
        self.module = module
        self.found: list[EngineCall] = []
        self.module_scope = assignments_in(module.file.module.body)

    def scan_scope(self, body, params: set[str], function: cst.FunctionDef | None = None) -> None:
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

    def _engine(self, call: cst.Call, scope, params, function: cst.FunctionDef | None = None) -> list[EngineCall]:
        func = call.func
        kind = None
        if isinstance(func, cst.Attribute) and func.attr.value in MAKE_PRIVATE:
            kind = func.attr.value
            wrapped = keyword_argument(call, "module")
        else:
            qualname = self.module.resolve_expr(func) if dotted_name(func) else None
            last = qualname.rsplit(".", 1)[-1] if qualname else None
            if last in GRAD_SAMPLE_MODULES and (qualname.startswith("opacus") or qualname == last):
                kind = last
                wrapped = keyword_argument(call, "m")
                positional = [a for a in call.args if a.keyword is None and not a.star]
                if wrapped is None and positional:
                    wrapped = positional[0].value
        if kind is None:
            return []
        batch_first = self._batch_first(call, scope)
        loss_reduction = self._setting(call, scope, "loss_reduction", "mean", str)
        if kind in MAKE_PRIVATE:
            grad_sample_mode = self._setting(call, scope, "grad_sample_mode", "hooks", str)
        else:
            grad_sample_mode = _GSM_MODES.get(kind, "hooks")
            if kind == "GradSampleModule":
                functorch = self._setting(call, scope, "force_functorch", False, bool)
                grad_sample_mode = "functorch" if functorch is True else grad_sample_mode if functorch is False else UNKNOWN
        alternatives = self.resolve_alternatives(wrapped, scope, params, function)
        if alternatives:
            names = tuple(cls.name for cls, _, _, _ in alternatives)
            return [
                EngineCall(self.module.file, call, kind, batch_first, cls, model_call, model_module,
                           fixed, loss_reduction, grad_sample_mode, names)
                for cls, model_call, model_module, fixed in alternatives
            ]
        self._validator_fixed = False
        cls, model_call, model_module = self.resolve_model(wrapped, scope, params, self.module, 0, function)
        return [EngineCall(self.module.file, call, kind, batch_first, cls, model_call, model_module,
                           self._validator_fixed, loss_reduction, grad_sample_mode)]

    def resolve_alternatives(self, expr, scope, params, function) -> list[tuple]:
        """[(class, constructor call, module, validator_fixed)] when `expr` is a name assigned
        different model classes (on branches dp-lint cannot decide), each assignment resolved;
        [] otherwise. Assignments that only pass the same name on (`model = model.to(device)`,
        `model = ModuleValidator.fix(model)`) apply to every alternative."""
        if not isinstance(expr, cst.Name):
            return []
        candidates = scope.get(expr.value)
        if candidates is None and function is None:
            candidates = self.module_scope.get(expr.value)
        if not candidates or len(candidates) < 2:
            return []
        fixed_for_all = False
        found: dict[ClassInfo, tuple] = {}
        for candidate in candidates:
            passed_on, fixed = _passes_on(candidate, expr.value, self.module)
            if passed_on:
                fixed_for_all = fixed_for_all or fixed
                continue
            self._validator_fixed = False
            cls, model_call, model_module = self.resolve_model(candidate, scope, params, self.module, 1, function)
            if cls is None:
                return []  # one branch builds something dp-lint cannot follow
            found.setdefault(cls, (cls, model_call, model_module, self._validator_fixed))
        if len(found) < 2:
            return []
        return [(cls, call, module, fixed or fixed_for_all) for cls, call, module, fixed in found.values()]

    def _batch_first(self, call: cst.Call, scope):
        return self._setting(call, scope, "batch_first", True, bool)

    def _setting(self, call: cst.Call, scope, keyword: str, default, kind: type):
        """A keyword argument of the engine call: its literal value (also through a local or
        module-level name assigned one literal), `default` when absent, else UNKNOWN."""
        value = keyword_argument(call, keyword)
        if value is None:
            return UNKNOWN if any(a.star == "**" for a in call.args) else default
        result = literal(value, self.module)
        if result is UNKNOWN and isinstance(value, cst.Name):
            candidates = scope.get(value.value) or self.module_scope.get(value.value) or []
            values = {literal(v, self.module) for v in candidates if not isinstance(v, cst.Name)} if candidates else set()
            if len(values) == 1 and UNKNOWN not in values:
                result = values.pop()
        return result if isinstance(result, kind) else UNKNOWN

    def resolve_model(self, expr, scope, params, module: ModuleInfo, depth: int,
                      function: cst.FunctionDef | None = None):
        """(class, constructor call, module of that call) for the expression handed to the engine.
        `function` is the function whose body `scope` and `params` are (None: module level)."""
        none = (None, None, None)
        if expr is None or depth > 8:
            return none
        if isinstance(expr, cst.Call):
            func = expr.func
            if isinstance(func, cst.Attribute) and func.attr.value in _PASS_THROUGH_METHODS:
                return self.resolve_model(func.value, scope, params, module, depth + 1, function)
            name = dotted_name(func)
            qualname = module.resolve_expr(func) if name else None
            if qualname is None:
                return none
            if name in _PASS_THROUGH_FUNCTIONS or qualname.endswith("ModuleValidator.fix"):
                self._validator_fixed = True
                first = expr.args[0].value if expr.args else None
                return self.resolve_model(first, scope, params, module, depth + 1, function)
            cls = self.index.lookup_class(qualname)
            if cls is not None and self.models.is_module_class(cls):
                return cls, expr, module
            function = self.index.lookup_function(qualname)
            if function is not None:
                return self.resolve_factory(function, depth)
            return none
        if isinstance(expr, cst.Name):
            candidates = scope.get(expr.value)
            if candidates is None and function is not None and expr.value in params:
                # `def run(model, loader): make_private(module=model, ...)`: what the callers pass.
                return self.resolve_parameter(function, expr.value, module, depth)
            if candidates is None and module is self.module:
                candidates = self.module_scope.get(expr.value)
            if not candidates:
                return none
            results = {self.resolve_model(c, scope, params, module, depth + 1, function)
                       for c in candidates if c is not expr}
            classes = {r[0] for r in results if r[0] is not None}
            if len(classes) != 1:
                return none  # reassigned to different models: do not guess
            return next(r for r in results if r[0] is not None)
        return none

    def resolve_parameter(self, node: cst.FunctionDef, name: str, module: ModuleInfo, depth: int):
        """The model every call of the module-level function `node` passes as parameter `name`:
        resolved only when the project calls it, always passes that argument, and every call
        passes the same model class."""
        none = (None, None, None)
        info = module.functions.get(node.name.value)
        if info is None or info.node is not node:
            return none  # a method or a nested function: its callers are not followed
        params = function_params(node)
        positional = [p.name.value for p in (*node.params.posonly_params, *node.params.params)]
        position = positional.index(name) if name in positional else None
        results = set()
        for caller, call, scope, caller_params, caller_function in self._call_sites(info):
            value = argument(call, name, position)
            if value is None or any(a.star for a in call.args):
                return none
            results.add(self.resolve_model(value, scope, caller_params, caller, depth + 1, caller_function))
        if not params or not results or any(r[0] is None for r in results) or len({r[0] for r in results}) != 1:
            return none
        return next(iter(results))

    def _call_sites(self, function: FunctionInfo):
        """(module, call, scope, params, enclosing function) of every call of `function`."""
        for module in self.index.by_file.values():
            if function.name not in module.file.text:
                continue
            yield from self._calls_in_scope(module, module.file.module.body, set(), None, function)

    def _calls_in_scope(self, module: ModuleInfo, body, params: set[str], enclosing, function: FunctionInfo):
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
                    qualname = module.resolve_expr(call.func) if dotted_name(call.func) else None
                    if qualname is not None and self.index.lookup_function(qualname) is function:
                        yield module, call, scope, params, enclosing

    def resolve_factory(self, function: FunctionInfo, depth: int):
        body = function.node.body.body if isinstance(function.node.body, cst.IndentedBlock) else []
        scope = assignments_in(body)
        params = {p.name.value for p in function.params}
        results = set()
        for stmt in walk_statements(body):
            if isinstance(stmt, cst.SimpleStatementLine):
                for small in stmt.body:
                    if isinstance(small, cst.Return) and small.value is not None:
                        results.add(self.resolve_model(small.value, scope, params, function.module, depth + 1))
        classes = {r[0] for r in results if r[0] is not None}
        if len(classes) != 1 or any(r[0] is None for r in results):
            return None, None, None
        return next(iter(results))



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


def _passes_on(expr: cst.BaseExpression, name: str, module: ModuleInfo) -> tuple[bool, bool]:
    """(is `expr` `name` passed through `.to(...)`/`ModuleValidator.fix(...)`..., went through a fix)."""
    fixed = False
    while isinstance(expr, cst.Call):
        func = expr.func
        if isinstance(func, cst.Attribute) and func.attr.value in _PASS_THROUGH_METHODS:
            expr = func.value
            continue
        qualname = module.resolve_expr(func) if dotted_name(func) else None
        if qualname is not None and (dotted_name(func) in _PASS_THROUGH_FUNCTIONS or qualname.endswith("ModuleValidator.fix")) and expr.args:
            fixed = True
            expr = expr.args[0].value
            continue
        break
    return isinstance(expr, cst.Name) and expr.value == name, fixed

"""Opacus engine calls of the project and the model class each one wraps.

An engine call is `PrivacyEngine.make_private(...)`, `make_private_with_epsilon(...)` or
a `GradSampleModule*(...)` construction. For each: its `batch_first` (a literal,
Opacus' default `True` when absent, UNKNOWN when not resolvable) and the wrapped
model, followed back from the argument to its constructor call:

    model = TextClassifier(vocab_size=100)          # or build_model() returning one
    model = model.to(device)
    model, optimizer, loader = engine.make_private(module=model, ..., batch_first=False)

Only files that mention one of the engine names are walked.
"""

from __future__ import annotations

from dataclasses import dataclass

import libcst as cst

from dp_lint.analysis.constants import ConstantEvaluator, literal
from dp_lint.analysis.index import ClassInfo, FunctionInfo, ModuleInfo, ProjectIndex
from dp_lint.analysis.models import ModuleModels
from dp_lint.analysis.values import UNKNOWN
from dp_lint.core.paths import display_path
from dp_lint.files.source import SourceFile
from dp_lint.files.syntax import (
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

    def scan_scope(self, body, params: set[str]) -> None:
        scope = assignments_in(body)
        for stmt in walk_statements(body):
            if isinstance(stmt, (cst.FunctionDef,)):
                inner = stmt.body.body if isinstance(stmt.body, cst.IndentedBlock) else []
                self.scan_scope(inner, {p.name.value for p in function_params(stmt)})
            elif isinstance(stmt, cst.ClassDef):
                inner = stmt.body.body if isinstance(stmt.body, cst.IndentedBlock) else []
                self.scan_scope(inner, set())
            elif isinstance(stmt, cst.SimpleStatementLine):
                for call in calls_in(stmt):
                    engine = self._engine(call, scope, params)
                    if engine is not None:
                        self.found.append(engine)

    def _engine(self, call: cst.Call, scope, params) -> EngineCall | None:
        func = call.func
        kind = None
        if isinstance(func, cst.Attribute) and func.attr.value in MAKE_PRIVATE:
            kind = func.attr.value
            wrapped = keyword_argument(call, "module")
        else:
            qualname = self.module.resolve_expr(func) if dotted_name(func) else None
            last = qualname.rsplit(".", 1)[-1] if qualname else None
            if qualname is not None and last in GRAD_SAMPLE_MODULES and (qualname.startswith("opacus") or qualname == last):
                kind = last
                wrapped = keyword_argument(call, "m")
                positional = [a for a in call.args if a.keyword is None and not a.star]
                if wrapped is None and positional:
                    wrapped = positional[0].value
        if kind is None:
            return None
        batch_first = self._batch_first(call, scope)
        loss_reduction = self._setting(call, scope, "loss_reduction", "mean", str)
        if kind in MAKE_PRIVATE:
            grad_sample_mode = self._setting(call, scope, "grad_sample_mode", "hooks", str)
        else:
            grad_sample_mode = _GSM_MODES.get(kind, "hooks")
            if kind == "GradSampleModule":
                functorch = self._setting(call, scope, "force_functorch", False, bool)
                grad_sample_mode = "functorch" if functorch is True else grad_sample_mode if functorch is False else UNKNOWN
        self._validator_fixed = False
        cls, model_call, model_module = self.resolve_model(wrapped, scope, params, self.module, 0)
        return EngineCall(self.module.file, call, kind, batch_first, cls, model_call, model_module,
                          self._validator_fixed, loss_reduction, grad_sample_mode)

    def _batch_first(self, call: cst.Call, scope):
        return self._setting(call, scope, "batch_first", True, bool)

    def _setting(self, call: cst.Call, scope, keyword: str, default, kind: type):
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
        return result if isinstance(result, kind) else UNKNOWN

    def resolve_model(self, expr, scope, params, module: ModuleInfo, depth: int):
        """(class, constructor call, module of that call) for the expression handed to the engine."""
        none = (None, None, None)
        if expr is None or depth > 8:
            return none
        if isinstance(expr, cst.Call):
            func = expr.func
            if isinstance(func, cst.Attribute) and func.attr.value in _PASS_THROUGH_METHODS:
                return self.resolve_model(func.value, scope, params, module, depth + 1)
            name = dotted_name(func)
            qualname = module.resolve_expr(func) if name else None
            if qualname is None:
                return none
            if name in _PASS_THROUGH_FUNCTIONS or qualname.endswith("ModuleValidator.fix"):
                self._validator_fixed = True
                first = expr.args[0].value if expr.args else None
                return self.resolve_model(first, scope, params, module, depth + 1)
            cls = self.index.lookup_class(qualname)
            if cls is not None and self.models.is_module_class(cls):
                return cls, expr, module
            function = self.index.lookup_function(qualname)
            if function is not None:
                return self.resolve_factory(function, depth)
            return none
        if isinstance(expr, cst.Name):
            candidates = scope.get(expr.value)
            if candidates is None and module is self.module:
                candidates = self.module_scope.get(expr.value)
            if not candidates:
                return none
            results = {self.resolve_model(c, scope, params, module, depth + 1) for c in candidates if c is not expr}
            classes = {r[0] for r in results if r[0] is not None}
            if len(classes) != 1:
                return none  # reassigned to different models: do not guess
            return next(r for r in results if r[0] is not None)
        return none

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


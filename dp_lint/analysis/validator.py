"""Shared logic of the static twins of Opacus' ModuleValidator (DPL101-DPL103)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import libcst as cst

from dp_lint.analysis import knowledge as tk
from dp_lint.analysis.engine_calls import EngineCall
from dp_lint.analysis.index import ModuleInfo
from dp_lint.analysis.layers import LayerUse
from dp_lint.analysis.models import Tri
from dp_lint.analysis.project import Project
from dp_lint.core.findings import Confidence
from dp_lint.files.source import SourceFile
from dp_lint.files.syntax import assignments_in, calls_in, enclosing


@dataclass(frozen=True)
class RefusedLayer:
    """A layer `make_private` refuses (`refused_layers`). It knows where it is (`node`, `file`),
    so a rule reports it directly: `self.report(refused, message, confidence=refused.confidence)`."""

    use: LayerUse
    call: cst.Call  # the layer's construction call
    module: ModuleInfo  # the module whose code writes `call`
    # High when the model is wrapped by a resolved engine call; medium when the wrapped
    # model is not known (no engine call, or an unresolved one).
    confidence: Confidence
    where: str  # for help texts: "wrapped by `make_private` at path/to/train.py:40", ...
    engine: EngineCall | None = None  # the engine call wrapping the model, when resolved

    @property
    def node(self) -> cst.Call:
        return self.call

    def refused_by(self) -> str:
        """For short messages: "`make_private` at train.py:40" (the engine call that refuses the
        layer, its line alone when in the layer's file), or "make_private" when no engine call
        is resolved or the model is wrapped by a bare GradSampleModule."""
        if self.engine is None or not self.engine.kind.makes_private:
            return "make_private"
        return f"`{self.engine.kind.value}` at {self.engine.short_label(self.file)}"

    @property
    def file(self) -> SourceFile:
        return self.module.file


def refused_layers(project: Project, accept: Callable[[LayerUse], bool]) -> Iterator[RefusedLayer]:
    """Layers that `make_private` refuses, in the models it wraps.

    ModuleValidator checks only modules that own trainable parameters, and a model that
    passes through `ModuleValidator.fix(...)` before the engine has them replaced.
    """
    # A layer that every alternative model of an engine call holds is refused whichever is built.
    alternatives_holding: dict[tuple[int, int], set[str]] = {}
    for layer in project.layer_uses:
        engine = layer.model.engine
        if engine is not None and engine.alternatives and layer.use.call is not None:
            alternatives_holding.setdefault((id(engine.node), id(layer.use.call)), set()).add(layer.model.instance.cls.name)
    for layer in project.layer_uses:
        use, model = layer.use, layer.model
        if use.call is None or use.module is None or not accept(use):
            continue
        if use.kind.owns_parameters is not Tri.YES:
            continue
        if model.engine is not None:
            engine = model.engine
            if engine.validator_fixed:
                continue
            where = f"wrapped by `{engine.kind.value}` at {engine.label()}"
            if engine.alternatives:
                holding = alternatives_holding.get((id(engine.node), id(use.call)), set())
                if holding < set(engine.alternatives):
                    yield RefusedLayer(use, use.call, use.module, Confidence.MEDIUM, where + engine.alternative_text(),
                                       engine)
                    continue
            yield RefusedLayer(use, use.call, use.module, Confidence.HIGH, where, engine)
        else:
            if project.calls_validator_fix:
                continue
            yield RefusedLayer(use, use.call, use.module, Confidence.MEDIUM,
                               "in a model the project may wrap with make_private")


@dataclass(frozen=True)
class LibraryModel:
    """A well-known library model handed to an engine call (`make_private(module=resnet18())`),
    whose layers the knowledge tables know (`knowledge.TORCHVISION_BATCHNORM_MODELS`)."""

    engine: EngineCall
    qualname: str  # "torchvision.models.resnet18"
    construction: cst.Call  # the builder call: where `ModuleValidator.fix(...)` goes
    module: ModuleInfo  # the module whose code writes both calls


def library_models_with_batchnorm(project: Project) -> Iterator[LibraryModel]:
    """Engine calls whose model is a torchvision classification model with BatchNorm (default
    `norm_layer`), built right there or assigned once to the name handed to the engine, and not
    passed through `ModuleValidator.fix` (or any other call) on the way."""
    for engine in project.engine_calls:
        if engine.wrapped is not None or engine.validator_fixed:
            continue
        module = project.index.by_file.get(engine.file)
        if module is None:
            continue
        argument = _wrapped_argument(engine)
        construction = _construction(engine, argument)
        if construction is None:
            continue
        qualname = module.resolve_expr(construction.func)
        key = tk.torchvision_model(qualname) if qualname else None
        if key is None or key not in tk.TORCHVISION_BATCHNORM_MODELS:
            continue
        if any(a.star or (a.keyword is not None and a.keyword.value == "norm_layer") for a in construction.args):
            continue
        yield LibraryModel(engine, key, construction, module)


def _wrapped_argument(engine: EngineCall) -> cst.BaseExpression | None:
    call = engine.node
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value in {"module", "m"}:
            return arg.value
    if engine.kind.value.startswith("make_private"):
        return None
    positional = [a for a in call.args if a.keyword is None and not a.star]
    return positional[0].value if positional else None


def _construction(engine: EngineCall, argument: cst.BaseExpression | None) -> cst.Call | None:
    if isinstance(argument, cst.Call):
        return argument
    if not isinstance(argument, cst.Name):
        return None
    file = engine.file
    scope: cst.CSTNode = enclosing(engine.node, file.parents, cst.FunctionDef) or file.module
    body = scope.body.body if isinstance(scope, cst.FunctionDef) and isinstance(scope.body, cst.IndentedBlock) \
        else (file.module.body if scope is file.module else [])
    values = assignments_in(body).get(argument.value, [])
    if len(values) != 1 or not isinstance(values[0], cst.Call):
        return None
    for call in calls_in(scope):
        if call is engine.node:
            continue
        if any(isinstance(a.value, cst.Name) and a.value.value == argument.value for a in call.args):
            return None  # `model = convert(model)`-like hand-offs: dp-lint cannot tell what they do
    return values[0]

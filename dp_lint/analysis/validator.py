"""Shared logic of the static twins of Opacus' ModuleValidator (DPL101-DPL103)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import libcst as cst

from dp_lint.analysis.index import ModuleInfo
from dp_lint.analysis.layers import LayerUse
from dp_lint.analysis.models import Tri
from dp_lint.analysis.project import Project
from dp_lint.core.findings import Confidence
from dp_lint.files.source import SourceFile


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
    where: str  # for messages: "wrapped by `make_private` at train.py:40", ...

    @property
    def node(self) -> cst.Call:
        return self.call

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
                    yield RefusedLayer(use, use.call, use.module, Confidence.MEDIUM, where + engine.alternative_text())
                    continue
            yield RefusedLayer(use, use.call, use.module, Confidence.HIGH, where)
        else:
            if project.calls_validator_fix:
                continue
            yield RefusedLayer(use, use.call, use.module, Confidence.MEDIUM,
                               "in a model the project may wrap with make_private")

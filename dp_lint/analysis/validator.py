"""Shared logic of the static twins of Opacus' ModuleValidator (DPL101-DPL103)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from dp_lint.analysis.layers import LayerUse
from dp_lint.analysis.models import Tri
from dp_lint.core.findings import Confidence


def refused_layers(project, accept: Callable[[LayerUse], bool]) -> Iterator[tuple[LayerUse, Confidence, str]]:
    """Layers that `make_private` refuses, in the models it wraps.

    ModuleValidator checks only modules that own trainable parameters, and a model that
    passes through `ModuleValidator.fix(...)` before the engine has them replaced.
    Yields (layer, confidence, where): confidence is medium when the wrapped model is
    not known (no engine call, or an unresolved one).
    """
    # A layer that every alternative model of an engine call holds is refused whichever is built.
    alternatives_holding: dict[tuple[int, int], set[str]] = {}
    for use, model in project.layer_uses:
        engine = model.engine
        if engine is not None and engine.alternatives and use.call is not None:
            alternatives_holding.setdefault((id(engine.node), id(use.call)), set()).add(model.instance.cls.name)
    for use, model in project.layer_uses:
        if use.call is None or not accept(use):
            continue
        if use.kind.owns_parameters is not Tri.YES:
            continue
        if model.engine is not None:
            engine = model.engine
            if engine.validator_fixed:
                continue
            where = f"wrapped by `{engine.kind}` at {engine.label()}"
            if engine.alternatives:
                holding = alternatives_holding.get((id(engine.node), id(use.call)), set())
                if holding < set(engine.alternatives):
                    yield use, Confidence.MEDIUM, where + engine.alternative_text()
                    continue
            yield use, Confidence.HIGH, where
        else:
            if project.calls_validator_fix:
                continue
            yield use, Confidence.MEDIUM, "in a model the project may wrap with make_private"

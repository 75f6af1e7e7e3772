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
    for use, model in project.layer_uses:
        if use.call is None or not accept(use):
            continue
        if use.kind.owns_parameters is not Tri.YES:
            continue
        if model.engine is not None:
            if model.engine.validator_fixed:
                continue
            yield use, Confidence.HIGH, f"wrapped by `{model.engine.kind}` at {model.engine.label()}"
        else:
            if project.calls_validator_fix:
                continue
            yield use, Confidence.MEDIUM, "in a model the project may wrap with make_private"

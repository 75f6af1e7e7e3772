"""Shared logic of the static twins of Opacus' ModuleValidator (DPL101-DPL103)."""

from __future__ import annotations

from typing import Callable, Iterator

from dp_lint.findings import Confidence
from dp_lint.layers import LayerUse
from dp_lint.modules import Tri


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


def replace_layer_class(project, use: LayerUse, name: str, import_from: str, message: str, forbidden_keywords=()):
    """A safe Fix swapping the layer's class for `import_from.name`, arguments kept."""
    import libcst as cst

    from dp_lint.findings import Applicability
    from dp_lint.rewrite import FixUnavailable, class_reference, make_fix, replace_nodes, with_import

    try:
        call = use.call
        if any(a.keyword is not None and a.keyword.value in forbidden_keywords for a in call.args):
            raise FixUnavailable(f"{name} does not take those arguments")
        file = use.module.file
        expression, import_needed = class_reference(use.module, f"{import_from}.{name}", import_from, name)
        tree = replace_nodes(file.module, {call.func: cst.parse_expression(expression)}, file.parents)
        if import_needed:
            tree = with_import(tree, import_needed)
        return make_fix(file.text, tree, Applicability.SAFE, message)
    except FixUnavailable:
        return None

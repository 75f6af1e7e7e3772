"""Fixes that swap a layer's class for another with the same arguments (DPL102, DPL103)."""

from __future__ import annotations

from collections.abc import Collection

import libcst as cst

from dp_lint.analysis.layers import LayerUse
from dp_lint.core.findings import Applicability, Fix
from dp_lint.fix.edits import FixUnavailable, class_reference, make_fix, replace_nodes, with_import


def replace_layer_class(use: LayerUse, name: str, import_from: str, message: str,
                        forbidden_keywords: Collection[str] = ()) -> Fix | None:
    """A safe Fix swapping the layer's class for `import_from.name`, arguments kept."""
    call, module = use.call, use.module
    if call is None or module is None or not use.direct:
        return None  # a layer whose constructor call is unknown (or does not name it) has nothing to rewrite
    try:
        if any(a.keyword is not None and a.keyword.value in forbidden_keywords for a in call.args):
            raise FixUnavailable(f"{name} does not take those arguments")
        file = module.file
        expression, import_needed = class_reference(module, f"{import_from}.{name}", import_from, name)
        tree = replace_nodes(file.module, {call.func: cst.parse_expression(expression)}, file.parents)
        if import_needed:
            tree = with_import(tree, import_needed)
        return make_fix(file.text, tree, Applicability.SAFE, message)
    except FixUnavailable:
        return None

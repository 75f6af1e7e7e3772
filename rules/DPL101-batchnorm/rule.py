"""DPL101 batchnorm.

Finds: a trainable `BatchNorm1d/2d/3d` or `SyncBatchNorm` (affine, the default), or an
`InstanceNorm1d/2d/3d` with `affine=True` and `track_running_stats=True`, in a model
wrapped by an Opacus engine (or in any root nn.Module when the project has no engine call).

Why Opacus refuses it: batch normalisation computes statistics across the batch, so
one sample's output depends on the others and per-sample gradients are not defined;
running statistics would leak data without a privacy mechanism. `make_private` raises
`UnsupportedModuleError` from ModuleValidator.

Fix (unsafe: new normalisation, new weights): `nn.GroupNorm(gcd(32, C), C)` keeping `eps`
and `affine`, as ModuleValidator.fix does — except for BatchNorm1d, which becomes
`nn.GroupNorm(1, C)`: on `[batch, features]` inputs gcd(32, C) groups would hold a single
value each. For InstanceNorm, `track_running_stats=False`.

Confidence: high inside a resolved wrapped model; medium otherwise.
"""

from __future__ import annotations

import math

import libcst as cst

from dp_lint.analysis.layers import literal
from dp_lint.analysis.validator import refused_layers
from dp_lint.catalogue.rule import FixAvailability, Rule
from dp_lint.core.findings import Applicability
from dp_lint.fix.edits import FixUnavailable, class_reference, local_name_for, make_fix, replace_nodes, with_import

BATCH_NORMS = {"BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "SyncBatchNorm"}
INSTANCE_NORMS = {"InstanceNorm1d", "InstanceNorm2d", "InstanceNorm3d"}


class BatchNorm(Rule):
    code = "DPL101"
    name = "batchnorm"
    summary = "BatchNorm (or InstanceNorm tracking running stats) is refused by make_private"
    fix_availability = FixAvailability.UNSAFE
    opacus_behaviours = ("validator-refuses-batchnorm",)

    def check(self, project):
        tree = project.layer_tree

        def refused(use) -> bool:
            if use.name in BATCH_NORMS:
                return True
            if use.name in INSTANCE_NORMS:
                # nn.InstanceNormNd(num_features, eps, momentum, affine, track_running_stats)
                return tree.setting(use, "track_running_stats", 4, False) is True
            return False

        for use, confidence, where in refused_layers(project, refused):
            if use.name in BATCH_NORMS:
                why = "it normalises with statistics of the whole batch, so samples are not independent"
                fix = "replace it with `nn.GroupNorm(math.gcd(32, C), C)` (what ModuleValidator.fix does)"
            else:
                why = "it tracks running statistics, which would need their own privacy mechanism"
                fix = "set `track_running_stats=False`"
            try:
                edit = _group_norm_fix(use) if use.name in BATCH_NORMS else _stop_tracking_fix(use)
            except FixUnavailable:
                edit = None
            yield self.report(
                use.call,
                f"`{use.name}` at `{use.path}` ({where}): make_private raises UnsupportedModuleError because "
                f"{why}. {fix[0].upper()}{fix[1:]}.",
                file=use.module.file,
                confidence=confidence,
                fix=edit,
            )


_KEPT_KEYWORDS = {"eps", "affine", "device", "dtype"}


def _group_norm_fix(use):
    """`nn.BatchNorm2d(C, ...)` -> `nn.GroupNorm(gcd(32, C), C, ...)`: unsafe, a new
    normalisation with new weights (what ModuleValidator.fix does)."""
    call = use.call
    positional = [a for a in call.args if a.keyword is None]
    keywords = {a.keyword.value: a for a in call.args if a.keyword is not None}
    if len(positional) != 1 or positional[0].star or set(keywords) - _KEPT_KEYWORDS - {"momentum", "track_running_stats"}:
        raise FixUnavailable("arguments GroupNorm cannot take")
    channels = positional[0].value
    module = use.module
    tree_imports = []
    value = literal(channels, None)
    code = cst.Module([]).code_for_node(channels)
    if use.name == "BatchNorm1d":
        # Often fed [batch, features]: gcd(32, C) groups would hold one value each and
        # normalise everything to the bias. One group works for [B, C] and [B, C, L].
        groups = "1"
    elif isinstance(value, int) and not isinstance(value, bool):
        groups = str(math.gcd(32, value))
    else:
        gcd = local_name_for(module, "math.gcd")
        if gcd is None:
            if "math" in module.assignments or "math" in module.functions or "math" in module.classes:
                raise FixUnavailable("the name `math` is taken in this module")
            gcd, tree_imports = "math.gcd", ["import math"]
        groups = f"{gcd}(32, {code})"
    if isinstance(call.func, cst.Attribute):
        func = call.func.with_changes(attr=cst.Name("GroupNorm"))
        func_code = cst.Module([]).code_for_node(func)
    else:
        func_code, import_needed = class_reference(module, "torch.nn.GroupNorm", "torch.nn", "GroupNorm")
        if import_needed:
            tree_imports.append(import_needed)
    kept = [f"{name}={cst.Module([]).code_for_node(keywords[name].value)}" for name in ("eps", "affine", "device", "dtype") if name in keywords]
    new_call = cst.parse_expression(f"{func_code}({', '.join([groups, code, *kept])})")
    file = module.file
    tree = replace_nodes(file.module, {call: new_call}, file.parents)
    for statement in tree_imports:
        tree = with_import(tree, statement)
    return make_fix(
        file.text, tree, Applicability.UNSAFE,
        f"Replace {use.name} with GroupNorm (new normalisation and weights: retrain or re-tune)",
    )


def _stop_tracking_fix(use):
    """InstanceNorm: `track_running_stats=True` -> `False` (unsafe: eval mode changes)."""
    for arg in use.call.args:
        if arg.keyword is not None and arg.keyword.value == "track_running_stats":
            file = use.module.file
            tree = replace_nodes(file.module, {arg.value: cst.Name("False")}, file.parents)
            return make_fix(
                file.text, tree, Applicability.UNSAFE,
                f"Stop tracking running statistics in {use.name} (eval mode then uses each sample's own statistics)",
            )
    raise FixUnavailable("track_running_stats is not a keyword argument")

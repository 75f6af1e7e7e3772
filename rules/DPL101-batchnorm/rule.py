"""DPL101 batchnorm: see README.md."""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

import libcst as cst

from dp_lint.analysis import knowledge as tk
from dp_lint.analysis.constants import literal
from dp_lint.analysis.layer_state import frozen_layer, kept_in_eval_mode
from dp_lint.analysis.layers import LayerUse
from dp_lint.analysis.models import Tri
from dp_lint.analysis.project import Project
from dp_lint.analysis.validator import LibraryModel, RefusedLayer, library_models_with_batchnorm, refused_layers
from dp_lint.catalogue.rule import FixAvailability, Rule
from dp_lint.core.findings import Applicability, Confidence, Finding, Fix
from dp_lint.files.source import SourceFile
from dp_lint.fix.edits import FixUnavailable, class_reference, local_name_for, make_fix, replace_nodes, with_import

BATCH_NORMS = {"BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "SyncBatchNorm"}
# The text of make_private's UnsupportedModuleError, as the catalogue cases measure it on 1.6.0
# (the other layers' cases record only the error's class).
_REFUSAL_TEXT = {
    "BatchNorm1d": "BatchNorm cannot support training with differential privacy",
    "BatchNorm2d": "BatchNorm cannot support training with differential privacy",
    "InstanceNorm1d": "We do not support tracking running stats",
    "InstanceNorm2d": "We do not support tracking running stats",
    "InstanceNorm3d": "We do not support tracking running stats",
}
INSTANCE_NORMS = {"InstanceNorm1d", "InstanceNorm2d", "InstanceNorm3d"}


class BatchNorm(Rule):
    code = "DPL101"
    name = "batchnorm"
    summary = ("BatchNorm (or InstanceNorm tracking running stats) is refused by make_private; a frozen or "
               "affine=False BatchNorm is accepted and silently mixes samples")
    fix_availability = FixAvailability.UNSAFE
    opacus_behaviours = ("validator-refuses-batchnorm", "frozen-batchnorm-mixes-samples")

    def check(self, project: Project) -> Iterator[Finding]:
        tree = project.layer_tree

        def refused(use: LayerUse) -> bool:
            if use.name in BATCH_NORMS:
                return True
            if use.name in INSTANCE_NORMS:
                # nn.InstanceNormNd(num_features, eps, momentum, affine, track_running_stats)
                return tree.setting(use, "track_running_stats", 4, False) is True
            return False

        for layer in refused_layers(project, refused):
            use = layer.use
            if frozen_layer(project, use):
                continue  # the validator only checks trainable layers: see _accepted_batch_norms
            if use.name in BATCH_NORMS:
                why = "it normalises with statistics of the whole batch, so samples are not independent"
                fix = "Replace it with `nn.GroupNorm(math.gcd(32, C), C)` (what ModuleValidator.fix does)"
            else:
                why = "it tracks running statistics, which would need their own privacy mechanism"
                fix = "Set `track_running_stats=False`"
            try:
                edit = _group_norm_fix(layer) if use.name in BATCH_NORMS else _stop_tracking_fix(layer)
            except FixUnavailable:
                edit = None
            yield self.report(
                layer,
                f"`{use.name}` at `{use.path}`: {layer.refused_by()} raises UnsupportedModuleError.",
                help=f"{fix}. The layer is {layer.where}; make_private refuses it because {why}"
                     f"{_refusal(use.name)}.",
                confidence=layer.confidence,
                fix=edit,
                behaviour="validator-refuses-batchnorm",
            )
        for library in library_models_with_batchnorm(project):
            engine = library.engine
            short_name = library.qualname.rsplit('.', 1)[-1]
            yield self.report(
                engine.node,
                f"`{library.qualname}(...)` holds BatchNorm2d layers: `{engine.kind.value}` here raises "
                f"UnsupportedModuleError.",
                help=(
                    f"Build the model as `ModuleValidator.fix({short_name}(...))` before the optimizer is created "
                    f"(it replaces each BatchNorm with GroupNorm(gcd(32, C), C)), or pass a `norm_layer` that needs "
                    f"no batch statistics. BatchNorm2d is its default norm_layer "
                    f"({tk.TORCHVISION_BATCHNORM_MODELS[library.qualname]}); make_private refuses it because "
                    f"BatchNorm normalises with statistics of the whole batch, so samples are not independent."
                ),
                file=engine.file,
                confidence=Confidence.HIGH,
                fix=_validator_fix(library),
            )
        yield from self._accepted_batch_norms(project)

    def _accepted_batch_norms(self, project: Project) -> Iterator[Finding]:
        """BatchNorm without trainable parameters (frozen, or `affine=False`): make_private's
        validator and ModuleValidator.fix skip it (they only look at trainable modules), and in
        train mode it normalises with the batch's statistics (measured: silent)."""
        seen: set[int] = set()
        for layer in project.layer_uses:
            use, model = layer.use, layer.model
            call, module = use.call, use.module
            if use.name not in BATCH_NORMS or call is None or module is None or id(call) in seen:
                continue
            if use.kind.owns_parameters is Tri.NO:
                state = "has affine=False"
            elif use.kind.owns_parameters is Tri.YES and frozen_layer(project, use):
                state = "is frozen"
            else:
                continue
            if kept_in_eval_mode(project, use):
                continue
            seen.add(id(call))
            engine = model.engine
            if engine is not None:
                where = f"wrapped by `{engine.kind.value}` at {engine.label()}"
                confidence = Confidence.MEDIUM if engine.alternatives else Confidence.HIGH
            else:
                where = "in a model the project may wrap with make_private"
                confidence = Confidence.MEDIUM
            yield self.report(
                _Site(call, module.file),
                f"`{use.name}` at `{use.path}` {state}: make_private accepts it, but it mixes samples in train mode.",
                help=(
                    "Keep it in eval mode (override `train()` to call `.eval()` on it) or replace it with "
                    f"`nn.GroupNorm`/`nn.LayerNorm`. The layer is {where} and has no trainable parameters: "
                    "make_private accepts it (its validator, like ModuleValidator.fix, only looks at layers with "
                    "trainable parameters), but in train mode it normalises each sample with the statistics of the "
                    "whole batch, so the per-sample gradients of the layers around it depend on the other samples: "
                    "clipping no longer bounds one sample's "
                    "influence, silently (measured)."
                ),
                confidence=confidence,
                behaviour="frozen-batchnorm-mixes-samples",
            )


def _refusal(layer: str) -> str:
    text = _REFUSAL_TEXT.get(layer)
    return f": `UnsupportedModuleError: ... {text} ...`" if text else " (`UnsupportedModuleError`)"


@dataclass(frozen=True)
class _Site:
    node: cst.CSTNode
    file: SourceFile


_KEPT_KEYWORDS = {"eps", "affine", "device", "dtype"}


def _group_norm_fix(layer: RefusedLayer) -> Fix:
    """`nn.BatchNorm2d(C, ...)` -> `nn.GroupNorm(gcd(32, C), C, ...)`: unsafe, a new
    normalisation with new weights (what ModuleValidator.fix does)."""
    use, call = layer.use, layer.call
    if not use.direct:
        raise FixUnavailable("the call does not name the layer's class (a class value or a subclass)")
    positional = [a for a in call.args if a.keyword is None]
    keywords = {a.keyword.value: a for a in call.args if a.keyword is not None}
    if len(positional) != 1 or positional[0].star or set(keywords) - _KEPT_KEYWORDS - {"momentum", "track_running_stats"}:
        raise FixUnavailable("arguments GroupNorm cannot take")
    channels = positional[0].value
    module = layer.module
    tree_imports: list[str] = []
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
    file = layer.file
    tree = replace_nodes(file.module, {call: new_call}, file.parents)
    for statement in tree_imports:
        tree = with_import(tree, statement)
    return make_fix(
        file.text, tree, Applicability.UNSAFE,
        f"Replace {use.name} with GroupNorm (new normalisation and weights: retrain or re-tune)",
    )


def _stop_tracking_fix(layer: RefusedLayer) -> Fix:
    """InstanceNorm: `track_running_stats=True` -> `False` (unsafe: eval mode changes)."""
    use = layer.use
    for arg in layer.call.args:
        if arg.keyword is not None and arg.keyword.value == "track_running_stats":
            file = layer.file
            tree = replace_nodes(file.module, {arg.value: cst.Name("False")}, file.parents)
            return make_fix(
                file.text, tree, Applicability.UNSAFE,
                f"Stop tracking running statistics in {use.name} (eval mode then uses each sample's own statistics)",
            )
    raise FixUnavailable("track_running_stats is not a keyword argument")


def _validator_fix(library: LibraryModel) -> Fix | None:
    """`resnet18(...)` -> `ModuleValidator.fix(resnet18(...))` where the model is built (before
    the optimizer takes its parameters): unsafe, new normalisation layers with new weights."""
    module = library.module
    file = module.file
    name = local_name_for(module, "opacus.validators.ModuleValidator")
    imports: list[str] = []
    if name is None:
        if "ModuleValidator" in module.assignments or "ModuleValidator" in module.functions or \
                "ModuleValidator" in module.classes or "ModuleValidator" in module.imports:
            return None
        name, imports = "ModuleValidator", ["from opacus.validators import ModuleValidator"]
    wrapped = cst.Call(func=cst.parse_expression(f"{name}.fix"), args=[cst.Arg(library.construction)])
    try:
        tree = replace_nodes(file.module, {library.construction: wrapped}, file.parents)
        for statement in imports:
            tree = with_import(tree, statement)
        return make_fix(file.text, tree, Applicability.UNSAFE,
                        "Build the model through ModuleValidator.fix (BatchNorm becomes GroupNorm: new weights)")
    except FixUnavailable:
        return None

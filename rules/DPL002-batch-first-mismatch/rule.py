"""DPL002 batch-first-mismatch: see README.md."""

from __future__ import annotations

from collections.abc import Iterator

import libcst as cst

from dp_lint.analysis.layers import BATCH_FIRST_LAYERS, KeywordOrigin, LayerUse, LiteralOrigin, Origin
from dp_lint.analysis.project import PrivateModel, Project
from dp_lint.analysis.values import UNKNOWN, Unknown
from dp_lint.catalogue.rule import FixAvailability, Rule
from dp_lint.core.findings import Applicability, Confidence, Finding, Fix
from dp_lint.fix.edits import FixUnavailable, add_keyword, make_fix, replace_nodes


class BatchFirstMismatch(Rule):
    code = "DPL002"
    name = "batch-first-mismatch"
    summary = "Layer batch_first disagrees with the Opacus engine's: samples mixed silently or torch.stack error"
    fix_availability = FixAvailability.UNSAFE
    opacus_behaviours = ("batch-first-global-setting",)

    def check(self, project: Project) -> Iterator[Finding]:
        tree = project.layer_tree
        for layer in project.layer_uses:
            use = layer.use
            layer_value = tree.batch_first(use)
            if layer_value is UNKNOWN or use.call is None:
                continue
            engine_value, engine_text, confidence = self._engine_value(project, layer.model)
            if engine_value is UNKNOWN or engine_value == layer_value:
                continue
            yield self.report(
                use.call,
                self._message(use, layer_value, engine_value, engine_text),
                file=use.file,
                confidence=confidence,
                fix=self._fix(project, use, use.call, engine_value),
            )

    @staticmethod
    def _fix(project: Project, use: LayerUse, call: cst.Call, engine_value: bool) -> Fix | None:
        """Set batch_first where its value comes from: the layer's own argument, or the
        construction call / default it was passed through (in the layer's file only)."""
        if not engine_value:
            # Turning a layer sequence-first also needs forward() to index sequence-first
            # (`out[-1]` instead of `out[:, -1]`) and every other layer to see the batch on
            # dimension 1: not something a rewrite of one argument can promise.
            return None
        tree = project.layer_tree
        file = use.file
        if file is None:
            return None
        argument = next((a.value for a in call.args if a.keyword is not None and a.keyword.value == "batch_first"), None)
        positional = [a for a in call.args if a.keyword is None]
        position = BATCH_FIRST_LAYERS[use.name]
        if argument is None and len(positional) > position:
            argument = positional[position].value
        origin: Origin | None
        if argument is None:
            origin = KeywordOrigin(call, use.module, "batch_first")
        else:
            origin = tree.origin(argument, use.instance, use.owner, use.module)
        if isinstance(origin, KeywordOrigin) and origin.module is not None and origin.module.file is not file:
            origin = origin.fallback  # the call is in another file: change the default in this one
        if origin is None or origin.module is None or origin.module.file is not file:
            return None
        value = cst.Name("True" if engine_value else "False")
        changes: dict[cst.CSTNode, cst.CSTNode]
        if isinstance(origin, LiteralOrigin):
            changes = {origin.node: value}
            where = "here" if origin.node is argument else "where its value is set"
        else:
            changes = {origin.call: add_keyword(origin.call, origin.name, value)}
            where = "here" if origin.call is call else f"in the call that builds it (`{origin.name}=`)"
        note = ""
        if use.name == "DPMultiheadAttention" and engine_value:
            heads = tree.setting(use, "num_heads", 1, UNKNOWN)
            if heads != 1:
                note = "; note: with several heads this makes DPL004 apply (wrong forward output on opacus <= 1.6.0)"
        try:
            return make_fix(
                file.text,
                replace_nodes(file.module, changes, file.parents),
                Applicability.UNSAFE,
                f"Set batch_first={engine_value} {where} (feed data in that layout){note}",
            )
        except FixUnavailable:
            return None

    @staticmethod
    def _engine_value(project: Project, model: PrivateModel) -> tuple[bool | Unknown, str, Confidence]:
        return project.engine_batch_first(model)

    @staticmethod
    def _message(use: LayerUse, layer_value: bool, engine_value: bool, engine_text: str) -> str:
        if engine_value:
            consequence = (
                "with batch-first data the layer mixes samples across the batch (no error, per-sample "
                "gradients and privacy silently wrong); with sequence-first data optimizer.step() fails "
                "in torch.stack"
            )
        else:
            consequence = (
                "Opacus takes dimension 1 as the batch for every layer while this layer expects it "
                "first: per-sample gradients are wrong or optimizer.step() fails in torch.stack"
            )
        return (
            f"`{use.name}` at `{use.path}` has batch_first={layer_value}, but {engine_text}: "
            f"{consequence}. Set batch_first={engine_value} on this layer (and feed data in that layout)."
        )

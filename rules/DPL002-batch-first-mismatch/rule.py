"""DPL002 batch-first-mismatch.

Finds: a layer with a `batch_first` setting (`DPMultiheadAttention`, `DPLSTM`/`DPGRU`/`DPRNN`,
their `torch.nn` twins, `nn.Transformer*`) inside a model wrapped by an Opacus engine call,
whose resolved `batch_first` differs from the engine's (`make_private`/`GradSampleModule`,
default True). Values are resolved through constructor parameters and defaults, across files.

Why Opacus breaks: the engine has one global `batch_first` for every layer's per-sample
gradients; the layer decides for itself which dimension is the batch. With batch-first data
and a sequence-first layer, attention/recurrence runs across samples: no error, privacy
silently void. With sequence-first data, `DPOptimizer.step()` fails in `torch.stack`.

Fix (unsafe: the layer then expects the other data layout): when the engine is batch-first
(Opacus' default), set `batch_first=True` where the layer's value is decided — its own
argument, the construction call that passes it down, or that parameter's default — when
that place is in the layer's file. No fix when the engine is sequence-first: forward()
would also have to index sequence-first, which one argument cannot change.

Confidence: high when the engine call and the wrapped model are resolved; medium when the
engine value is assumed (no engine call in the project) or the engine's model is unresolved.
"""

from __future__ import annotations

import libcst as cst

from dp_lint.analysis.layers import BATCH_FIRST_LAYERS, UNKNOWN
from dp_lint.catalogue.rule import FixAvailability, Rule
from dp_lint.core.findings import Applicability
from dp_lint.fix.edits import FixUnavailable, add_keyword, make_fix, replace_nodes


class BatchFirstMismatch(Rule):
    code = "DPL002"
    name = "batch-first-mismatch"
    summary = "Layer batch_first disagrees with the Opacus engine's: samples mixed silently or torch.stack error"
    fix_availability = FixAvailability.UNSAFE
    opacus_behaviours = ("batch-first-global-setting",)

    def check(self, project):
        tree = project.layer_tree
        for use, model in project.layer_uses:
            layer_value = tree.batch_first(use)
            if layer_value is UNKNOWN or use.call is None:
                continue
            engine_value, engine_text, confidence = self._engine_value(project, model)
            if engine_value is UNKNOWN or engine_value == layer_value:
                continue
            yield self.report(
                use.call,
                self._message(use, layer_value, engine_value, engine_text),
                file=use.module.file,
                confidence=confidence,
                fix=self._fix(project, use, engine_value),
            )

    @staticmethod
    def _fix(project, use, engine_value: bool):
        """Set batch_first where its value comes from: the layer's own argument, or the
        construction call / default it was passed through (in the layer's file only)."""
        if not engine_value:
            # Turning a layer sequence-first also needs forward() to index sequence-first
            # (`out[-1]` instead of `out[:, -1]`) and every other layer to see the batch on
            # dimension 1: not something a rewrite of one argument can promise.
            return None
        tree = project.layer_tree
        call = use.call
        argument = next((a.value for a in call.args if a.keyword is not None and a.keyword.value == "batch_first"), None)
        positional = [a for a in call.args if a.keyword is None]
        position = BATCH_FIRST_LAYERS[use.name]
        if argument is None and len(positional) > position:
            argument = positional[position].value
        if argument is None:
            origin = ("keyword", call, use.module, "batch_first", None)
        else:
            origin = tree.origin(argument, use.instance, use.owner, use.module)
        if origin is not None and origin[0] == "keyword" and origin[2] is not None and origin[2].file is not use.module.file:
            origin = origin[4]  # the call is in another file: change the default in this one
        if origin is None or origin[2] is None or origin[2].file is not use.module.file:
            return None
        file = use.module.file
        value = cst.Name("True" if engine_value else "False")
        if origin[0] == "literal":
            changes = {origin[1]: value}
            where = "here" if origin[1] is argument else "where its value is set"
        else:
            changes = {origin[1]: add_keyword(origin[1], origin[3], value)}
            where = "here" if origin[1] is call else f"in the call that builds it (`{origin[3]}=`)"
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
    def _engine_value(project, model):
        return project.engine_batch_first(model)

    @staticmethod
    def _message(use, layer_value: bool, engine_value: bool, engine_text: str) -> str:
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

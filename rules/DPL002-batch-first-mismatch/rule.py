"""DPL002 batch-first-mismatch.

Finds: a layer with a `batch_first` setting (`DPMultiheadAttention`, `DPLSTM`/`DPGRU`/`DPRNN`,
their `torch.nn` twins, `nn.Transformer*`) inside a model wrapped by an Opacus engine call,
whose resolved `batch_first` differs from the engine's (`make_private`/`GradSampleModule`,
default True). Values are resolved through constructor parameters and defaults, across files.

Why Opacus breaks: the engine has one global `batch_first` for every layer's per-sample
gradients; the layer decides for itself which dimension is the batch. With batch-first data
and a sequence-first layer, attention/recurrence runs across samples: no error, privacy
silently void. With sequence-first data, `DPOptimizer.step()` fails in `torch.stack`.

Confidence: high when the engine call and the wrapped model are resolved; medium when the
engine value is assumed (no engine call in the project) or the engine's model is unresolved.
"""

from __future__ import annotations

from dp_lint.findings import Confidence
from dp_lint.layers import UNKNOWN
from dp_lint.rule import Rule


class BatchFirstMismatch(Rule):
    code = "DPL002"
    name = "batch-first-mismatch"
    summary = "Layer batch_first disagrees with the Opacus engine's: samples mixed silently or torch.stack error"

    def check(self, project):
        tree = project.layer_tree
        for use, model in project.layer_uses:
            layer_value = tree.batch_first(use)
            if layer_value is UNKNOWN or use.call is None:
                continue
            engine_value, engine_text, confidence = self._engine_value(project, model)
            if engine_value is UNKNOWN or engine_value == layer_value:
                continue
            yield self.finding(
                project,
                use.module.file,
                use.call,
                self._message(use, layer_value, engine_value, engine_text),
                confidence=confidence,
            )

    @staticmethod
    def _engine_value(project, model):
        if model.engine is not None:
            engine = model.engine
            return engine.batch_first, f"the engine call `{engine.kind}(batch_first={engine.batch_first})` at {engine.label()}", Confidence.HIGH
        if model.unresolved_engines:
            values = {e.batch_first for e in model.unresolved_engines}
            if len(values) != 1:
                return UNKNOWN, "", Confidence.MEDIUM
            value = values.pop()
            labels = ", ".join(e.label() for e in model.unresolved_engines)
            return value, f"the engine call at {labels} (batch_first={value}; its model was not resolved)", Confidence.MEDIUM
        value = project.config.assume_batch_first
        return value, (
            f"the engine's batch_first={value}, assumed because the project has no make_private/GradSampleModule "
            f"call ([tool.dp-lint] assume-batch-first)"
        ), Confidence.MEDIUM

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

"""DPL103 multihead-attention.

Finds: `nn.MultiheadAttention`, and `nn.Transformer`/`nn.TransformerEncoderLayer`/
`nn.TransformerDecoderLayer` (which hold one), in a model wrapped by an Opacus engine
(or in any root nn.Module when the project has no engine call).

Why Opacus refuses it: nn.MultiheadAttention computes its projections with fused
functional calls on raw parameters that Opacus' hooks cannot see per sample.
`make_private` raises `UnsupportedModuleError` (ModuleValidator).
`opacus.layers.DPMultiheadAttention` is the drop-in replacement.

Fix (safe): swap nn.MultiheadAttention for opacus.layers.DPMultiheadAttention and import
it; arguments are kept. None for nn.Transformer* layers, and none when batch_first=True
with several heads (the replacement would compute a wrong output, DPL004).

Confidence: high inside a resolved wrapped model; medium otherwise.
"""

from __future__ import annotations

from dp_lint.analysis.validator import refused_layers
from dp_lint.catalogue.rule import FixAvailability, Rule
from dp_lint.fix.layer_swap import replace_layer_class

TRANSFORMERS = {"Transformer", "TransformerEncoderLayer", "TransformerDecoderLayer"}


class MultiheadAttention(Rule):
    code = "DPL103"
    name = "multihead-attention"
    summary = "nn.MultiheadAttention (also inside nn.Transformer* layers) is refused by make_private"
    fix_availability = FixAvailability.SAFE
    opacus_behaviours = ("validator-refuses-multihead-attention",)

    def check(self, project):
        def refused(use) -> bool:
            return use.name == "MultiheadAttention" or use.name in TRANSFORMERS

        tree = project.layer_tree
        for use, confidence, where in refused_layers(project, refused):
            heads = tree.setting(use, "num_heads" if use.name == "MultiheadAttention" else "nhead", 1, None)
            caveat = ""
            if tree.batch_first(use) is True and heads != 1:
                caveat = (
                    " Caution: with batch_first=True and several heads the replacement hits DPL004 on "
                    "opacus <= 1.6.0 (wrong forward output); prefer sequence-first layers with the engine's "
                    "batch_first=False, or one head."
                )
            fix = None
            if use.name == "MultiheadAttention":
                advice = "Use `opacus.layers.DPMultiheadAttention` with the same arguments."
                subject = "`nn.MultiheadAttention`"
                if not caveat:  # the replacement would compute a wrong output (DPL004): no fix
                    fix = replace_layer_class(
                        use, "DPMultiheadAttention", "opacus.layers",
                        "Replace nn.MultiheadAttention with opacus.layers.DPMultiheadAttention",
                    )
            else:
                advice = (
                    "Build the layer from `opacus.layers.DPMultiheadAttention`, or run "
                    "`ModuleValidator.fix(model)` before make_private, which swaps the attention inside."
                )
                subject = f"`nn.{use.name}` (it holds an nn.MultiheadAttention)"
            yield self.report(
                use.call,
                f"{subject} at `{use.path}` ({where}): make_private raises UnsupportedModuleError. {advice}{caveat}",
                file=use.module.file,
                confidence=confidence,
                fix=fix,
            )

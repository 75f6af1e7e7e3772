"""DPL103 multihead-attention: see README.md."""

from __future__ import annotations

from collections.abc import Iterator

from dp_lint.analysis.layers import LayerUse
from dp_lint.analysis.project import Project
from dp_lint.analysis.validator import refused_layers
from dp_lint.catalogue.rule import FixAvailability, Rule
from dp_lint.core.findings import Finding
from dp_lint.fix.layer_swap import replace_layer_class

TRANSFORMERS = {"Transformer", "TransformerEncoderLayer", "TransformerDecoderLayer"}


class MultiheadAttention(Rule):
    code = "DPL103"
    name = "multihead-attention"
    summary = "nn.MultiheadAttention (also inside nn.Transformer* layers) is refused by make_private"
    fix_availability = FixAvailability.SAFE
    opacus_behaviours = ("validator-refuses-multihead-attention",)

    def check(self, project: Project) -> Iterator[Finding]:
        def refused(use: LayerUse) -> bool:
            return use.name == "MultiheadAttention" or use.name in TRANSFORMERS

        tree = project.layer_tree
        for layer in refused_layers(project, refused):
            use = layer.use
            heads = tree.setting(use, "num_heads" if use.name == "MultiheadAttention" else "nhead", 1, None)
            caveat = ""
            if tree.batch_first(use) is True and heads != 1:
                caveat = (
                    " Caution: with batch_first=True and several heads the replacement hits DPL004 on "
                    "opacus <= 1.6.0 (wrong forward output); prefer sequence-first layers with the engine's "
                    "batch_first=False, or one head."
                )
            fix = None
            subject_is_attention = use.name == "MultiheadAttention"
            if subject_is_attention:
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
                subject = f"`nn.{use.name}`"
            yield self.report(
                layer,
                f"{subject} at `{use.path}`: {layer.refused_by()} raises UnsupportedModuleError." if subject_is_attention
                else f"{subject} at `{use.path}`: {layer.refused_by()} refuses its nn.MultiheadAttention.",
                help=f"{advice}{caveat} The layer is {layer.where}; make_private raises "
                     + ("`UnsupportedModuleError: ... We do not support nn.MultiheadAttention ...`."  # measured, 1.6.0
                        if subject_is_attention else "UnsupportedModuleError."),
                confidence=layer.confidence,
                fix=fix,
            )

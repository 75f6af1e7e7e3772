"""DPL102 rnn-layer: see README.md."""

from __future__ import annotations

from collections.abc import Iterator

from dp_lint.analysis.layers import LayerUse
from dp_lint.analysis.project import Project
from dp_lint.analysis.validator import refused_layers
from dp_lint.catalogue.rule import FixAvailability, Rule
from dp_lint.core.findings import Finding
from dp_lint.fix.layer_swap import replace_layer_class

REPLACEMENTS = {"LSTM": "DPLSTM", "GRU": "DPGRU", "RNN": "DPRNN"}
# The validator lets cells through, but their per-sample gradients fail at the first backward.
# Opacus' own cells (opacus.layers.dp_rnn) take other arguments: no drop-in replacement.
CELLS = {"LSTMCell": "DPLSTM", "GRUCell": "DPGRU", "RNNCell": "DPRNN"}


class RnnLayer(Rule):
    code = "DPL102"
    name = "rnn-layer"
    summary = "nn.LSTM/nn.GRU/nn.RNN cannot be used with Opacus: use DPLSTM/DPGRU/DPRNN"
    fix_availability = FixAvailability.SAFE
    opacus_behaviours = ("validator-refuses-rnn",)

    def check(self, project: Project) -> Iterator[Finding]:
        def refused(use: LayerUse) -> bool:
            return use.name in REPLACEMENTS or use.name in CELLS

        for layer in refused_layers(project, refused):
            use = layer.use
            if use.name in CELLS:
                yield self.report(
                    layer,
                    f"`nn.{use.name}` at `{use.path}`: Opacus has no per-sample gradients for it; "
                    f"the first backward fails.",
                    help=(
                        f"Run `opacus.layers.{CELLS[use.name]}` over the whole sequence instead of unrolling the cell. "
                        f"The layer is {layer.where}; Opacus cannot compute its per-sample gradients and the first "
                        f"backward fails inside its hooks."
                    ),
                    confidence=layer.confidence,
                )
                continue
            replacement = REPLACEMENTS[use.name]
            fix = None
            positional = [a for a in layer.call.args if a.keyword is None]
            # nn.RNN takes `nonlinearity` fourth; DPRNN takes it last: same only up to three.
            if use.name != "RNN" or len(positional) <= 3:
                fix = replace_layer_class(
                    use, replacement, "opacus.layers",
                    f"Replace nn.{use.name} with opacus.layers.{replacement}",
                    forbidden_keywords={"device", "dtype"},
                )
            failure = (
                f"{layer.refused_by()} raises UnsupportedModuleError"
                if use.name != "RNN"
                else "Opacus cannot compute its per-sample gradients"
            )
            detail = ""
            if use.kind.via is not None and use.kind.via.startswith("a subclass"):
                # Measured on 1.6.0: the validator matches exact types, so a subclass passes it.
                failure = "make_private lets this subclass through, then the first backward fails"
                detail = (" make_private's validator lets a subclass through, then Opacus cannot compute its "
                          "per-sample gradients and the first backward fails.")
            yield self.report(
                layer,
                f"`nn.{use.name}` at `{use.path}`: {failure}.",
                help=(
                    f"Use `opacus.layers.{replacement}` with the same arguments (same computation; its "
                    f"load_state_dict accepts the old weights). The layer is {layer.where}.{detail}"
                    f"{_refusal(use.name) if not detail and use.name != 'RNN' else ''}"
                ),
                confidence=layer.confidence,
                fix=fix,
            )


# The text of make_private's UnsupportedModuleError, as the catalogue cases measure it on 1.6.0.
_REFUSAL_TEXT = {"LSTM": "We do not support nn.LSTM", "GRU": "We do not support nn.GRU"}


def _refusal(layer: str) -> str:
    text = _REFUSAL_TEXT.get(layer)
    return f" make_private raises `UnsupportedModuleError: ... {text} ...`." if text else ""

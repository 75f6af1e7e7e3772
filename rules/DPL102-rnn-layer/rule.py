"""DPL102 rnn-layer.

Finds: `nn.LSTM`, `nn.GRU` or `nn.RNN` (and the cells `nn.LSTMCell`/`nn.GRUCell`/`nn.RNNCell`) in a model wrapped by an Opacus engine (or in
any root nn.Module when the project has no engine call).

Why Opacus refuses it: these layers run fused kernels whose parameters Opacus' hooks
cannot see per sample. `make_private` raises `UnsupportedModuleError` for nn.LSTM and
nn.GRU (ModuleValidator); nn.RNN has no validator and fails when per-sample gradients
are computed. `opacus.layers.DPLSTM`/`DPGRU`/`DPRNN` are drop-in replacements with the
same arguments; their own load_state_dict accepts the old weights.

Fix (safe): swap the class for its opacus.layers twin and import it; arguments are kept.
None for the cells, for nn.RNN with `nonlinearity` passed positionally, or with
device/dtype arguments (the DP layers do not take them).

Confidence: high inside a resolved wrapped model; medium otherwise.
"""

from __future__ import annotations

from dp_lint.analysis.validator import refused_layers
from dp_lint.catalogue.rule import FixAvailability, Rule
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

    def check(self, project):
        def refused(use) -> bool:
            return use.name in REPLACEMENTS or use.name in CELLS

        for use, confidence, where in refused_layers(project, refused):
            if use.name in CELLS:
                yield self.report(
                    use.call,
                    f"`nn.{use.name}` at `{use.path}` ({where}): Opacus cannot compute its per-sample "
                    f"gradients and the first backward fails inside its hooks. Run "
                    f"`opacus.layers.{CELLS[use.name]}` over the whole sequence instead of unrolling the cell.",
                    file=use.module.file,
                    confidence=confidence,
                )
                continue
            replacement = REPLACEMENTS[use.name]
            fix = None
            positional = [a for a in use.call.args if a.keyword is None]
            # nn.RNN takes `nonlinearity` fourth; DPRNN takes it last: same only up to three.
            if use.name != "RNN" or len(positional) <= 3:
                fix = replace_layer_class(
                    use, replacement, "opacus.layers",
                    f"Replace nn.{use.name} with opacus.layers.{replacement}",
                    forbidden_keywords={"device", "dtype"},
                )
            failure = (
                "make_private raises UnsupportedModuleError"
                if use.name != "RNN"
                else "Opacus cannot compute its per-sample gradients"
            )
            yield self.report(
                use.call,
                f"`nn.{use.name}` at `{use.path}` ({where}): {failure}. Use "
                f"`opacus.layers.{replacement}` with the same arguments (same computation; its load_state_dict accepts the old weights).",
                file=use.module.file,
                confidence=confidence,
                fix=fix,
            )

"""DPL004 dp-mha-batch-first-forward.

Finds: `DPMultiheadAttention(batch_first=True)` with `num_heads` other than 1 (or not
resolvable) in a checked model, while the project runs on opacus <= 1.6.0 (from
`[tool.dp-lint] opacus-version`, else the installed package, else a pin in
`pyproject.toml`/`requirements*.txt`; unknown counts as affected).

Why it is wrong: in those versions the batch-first path reshapes the attention output
without moving the heads back (`layers/dp_multihead_attention.py`), so the layer's forward
output differs from `nn.MultiheadAttention` with the same weights (by ~0.5 on unit-scale
inputs). Training runs, per-sample gradients are "exact" for a wrong model: no check that
only compares gradients can see it.

Confidence: high when the version is known; medium when it is unknown and assumed affected.
"""

from __future__ import annotations

from dp_lint.analysis.values import UNKNOWN
from dp_lint.catalogue.rule import Rule
from dp_lint.config.opacus_version import affected_by_mha_bug, detect_opacus_version
from dp_lint.core.findings import Confidence


class DPMultiheadAttentionBatchFirstForward(Rule):
    code = "DPL004"
    name = "dp-mha-batch-first-forward"
    summary = "DPMultiheadAttention(batch_first=True) with several heads computes a wrong output on opacus <= 1.6.0"

    def check(self, project):
        version, source = detect_opacus_version(project.config.opacus_version, project.config.root)
        if not affected_by_mha_bug(version):
            return
        tree = project.layer_tree
        for use, _model in project.layer_uses:
            if use.name != "DPMultiheadAttention" or use.call is None:
                continue
            if tree.batch_first(use) is not True:
                continue
            heads = tree.setting(use, "num_heads", 1, UNKNOWN)
            if heads == 1:
                continue
            heads_text = "an unresolved number of heads" if heads is UNKNOWN else f"num_heads={heads}"
            version_text = f"opacus {version} ({source})" if version else "an opacus version dp-lint could not determine (assumed <= 1.6.0)"
            yield self.report(
                use.call,
                f"`DPMultiheadAttention` at `{use.path}` has batch_first=True and {heads_text}: with "
                f"{version_text} its forward output is wrong (heads are not moved back before the output "
                f"projection; ~0.5 off nn.MultiheadAttention). Training runs and per-sample gradients look "
                f"exact for the wrong model. Use batch_first=False with sequence-first inputs (and the engine's "
                f"batch_first=False), or num_heads=1.",
                file=use.module.file,
                confidence=Confidence.HIGH if version else Confidence.MEDIUM,
            )

"""DPL004 dp-mha-batch-first-forward: see README.md."""

from __future__ import annotations

from collections.abc import Iterator

from dp_lint.analysis.project import Project
from dp_lint.analysis.values import UNKNOWN
from dp_lint.catalogue.rule import Rule
from dp_lint.config.opacus_version import affected_by_mha_bug, detect_opacus_version
from dp_lint.core.findings import Confidence, Finding


class DPMultiheadAttentionBatchFirstForward(Rule):
    code = "DPL004"
    name = "dp-mha-batch-first-forward"
    summary = "DPMultiheadAttention(batch_first=True) with several heads computes a wrong output on opacus <= 1.6.0"

    def check(self, project: Project) -> Iterator[Finding]:
        version, source = detect_opacus_version(project.config.opacus_version, project.config.root)
        if not affected_by_mha_bug(version):
            return
        tree = project.layer_tree
        for layer in project.layer_uses:
            use = layer.use
            if use.name != "DPMultiheadAttention" or use.call is None:
                continue
            if tree.batch_first(use) is not True:
                continue
            heads = tree.setting(use, "num_heads", 1, UNKNOWN)
            if heads == 1:
                continue
            heads_text = "an unresolved number of heads" if heads is UNKNOWN else f"num_heads={heads!s}"
            version_text = f"opacus {version} ({source})" if version else "an opacus version dp-lint could not determine (assumed <= 1.6.0)"
            yield self.report(
                use.call,
                f"`DPMultiheadAttention` at `{use.path}` has batch_first=True and {heads_text}: with "
                f"{version_text} its forward output is wrong (heads are not moved back before the output "
                f"projection; ~0.5 off nn.MultiheadAttention). Training runs and per-sample gradients look "
                f"exact for the wrong model. Use batch_first=False with sequence-first inputs (and the engine's "
                f"batch_first=False), or num_heads=1.",
                file=use.file,
                confidence=Confidence.HIGH if version else Confidence.MEDIUM,
            )

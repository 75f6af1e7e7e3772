"""DPL004 dp-mha-batch-first-forward.

Finds `DPMultiheadAttention(batch_first=True)` in a checked model when the project's Opacus
release has one of the two batch-first bugs of that layer (the version comes from
`[tool.dp-lint] opacus-version`, else the installed package, else a lock file or a pin; see
dp_lint/config/opacus_version.py and the version table in dp_lint/config/opacus_versions.py):

- opacus < 1.5 (`dpmha-batch-first-stack-crash`, issue #650, fixed by PR #651 in 1.5): under a
  batch-first engine (Opacus' default; without an engine call, `assume-batch-first`), the layer's
  internal linear layers still see sequence-first tensors, and the first `optimizer.step()` fails
  in `torch.stack` (`RuntimeError: stack expects each tensor to be equal size ...`), for any number
  of heads. Reported only when the version is known to be below 1.5.
- opacus 1.5 to 1.6.0 (`dpmha-batch-first-multihead-forward`, introduced by PR #651): with
  `num_heads` other than 1 (or not resolvable), the batch-first path reshapes the attention output
  without moving the heads back, so the forward output differs from `nn.MultiheadAttention` with
  the same weights (~0.5 on unit-scale inputs). Training runs, per-sample gradients are "exact" for
  a wrong model: no check that only compares gradients can see it. An unknown version counts as
  affected (the newest release has the bug).

Why one code for both: the same layer setting, the same fix (keep layer and engine
sequence-first, or move to a release without the bug), and the version decides which message
applies; a user pinning a release sees exactly one of them.

Confidence: high when the version (and, for the pre-1.5 crash, the engine call) is known;
medium when the version is unknown and assumed affected, or the engine's value is assumed.
"""

from __future__ import annotations

from dp_lint.analysis.layers import UNKNOWN
from dp_lint.catalogue.rule import Rule
from dp_lint.config.opacus_versions import holds
from dp_lint.core.findings import Confidence

STACK_CRASH = "dpmha-batch-first-stack-crash"
MULTIHEAD_FORWARD = "dpmha-batch-first-multihead-forward"


class DPMultiheadAttentionBatchFirstForward(Rule):
    code = "DPL004"
    name = "dp-mha-batch-first-forward"
    summary = ("DPMultiheadAttention(batch_first=True) is broken on old Opacus: torch.stack crash at step() "
               "before 1.5, wrong forward output with several heads on 1.5-1.6.0")
    opacus_behaviours = (STACK_CRASH, MULTIHEAD_FORWARD)

    def check(self, project):
        found = project.opacus_version
        version = found.version
        tree = project.layer_tree
        for use, model in project.layer_uses:
            if use.name != "DPMultiheadAttention" or use.call is None:
                continue
            if tree.batch_first(use) is not True:
                continue
            if holds(STACK_CRASH, version):
                engine_value, engine_text, confidence = project.engine_batch_first(model)
                if engine_value is True:
                    yield self.report(
                        use.call,
                        f"`DPMultiheadAttention` at `{use.path}` has batch_first=True under {engine_text}: with "
                        f"{found.describe()}, a release before 1.5, the layer's internal linear layers still see "
                        f"sequence-first tensors, and the first optimizer.step() fails with `RuntimeError: stack "
                        f"expects each tensor to be equal size ...` (opacus issue #650, fixed in 1.5 by PR #651). "
                        f"Upgrade to opacus >= 1.5 (then keep num_heads=1: several heads compute a wrong output "
                        f"up to 1.6.0), or keep the layer and the engine sequence-first (batch_first=False on "
                        f"both, [tokens, batch, dim] inputs).",
                        file=use.module.file,
                        confidence=confidence,
                        behaviour=STACK_CRASH,
                    )
                continue
            if not holds(MULTIHEAD_FORWARD, version):
                continue
            heads = tree.setting(use, "num_heads", 1, UNKNOWN)
            if heads == 1:
                continue
            heads_text = "an unresolved number of heads" if heads is UNKNOWN else f"num_heads={heads}"
            version_text = found.describe() if version else \
                "an opacus version dp-lint could not determine (assumed 1.5 to 1.6.0)"
            yield self.report(
                use.call,
                f"`DPMultiheadAttention` at `{use.path}` has batch_first=True and {heads_text}: with "
                f"{version_text} its forward output is wrong (heads are not moved back before the output "
                f"projection; ~0.5 off nn.MultiheadAttention). Training runs and per-sample gradients look "
                f"exact for the wrong model. Use batch_first=False with sequence-first inputs (and the engine's "
                f"batch_first=False), or num_heads=1.",
                file=use.module.file,
                confidence=Confidence.HIGH if version else Confidence.MEDIUM,
                behaviour=MULTIHEAD_FORWARD,
            )

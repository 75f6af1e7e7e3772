"""DPL101 batchnorm.

Finds: a trainable `BatchNorm1d/2d/3d` or `SyncBatchNorm` (affine, the default), or an
`InstanceNorm1d/2d/3d` with `affine=True` and `track_running_stats=True`, in a model
wrapped by an Opacus engine (or in any root nn.Module when the project has no engine call).

Why Opacus refuses it: batch normalisation computes statistics across the batch, so
one sample's output depends on the others and per-sample gradients are not defined;
running statistics would leak data without a privacy mechanism. `make_private` raises
`UnsupportedModuleError` from ModuleValidator.

Confidence: high inside a resolved wrapped model; medium otherwise.
"""

from __future__ import annotations

from dp_lint.layers import UNKNOWN
from dp_lint.rule import Rule
from dp_lint.validator_rules import refused_layers

BATCH_NORMS = {"BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "SyncBatchNorm"}
INSTANCE_NORMS = {"InstanceNorm1d", "InstanceNorm2d", "InstanceNorm3d"}


class BatchNorm(Rule):
    code = "DPL101"
    name = "batchnorm"
    summary = "BatchNorm (or InstanceNorm tracking running stats) is refused by make_private"

    def check(self, project):
        tree = project.layer_tree

        def refused(use) -> bool:
            if use.name in BATCH_NORMS:
                return True
            if use.name in INSTANCE_NORMS:
                # nn.InstanceNormNd(num_features, eps, momentum, affine, track_running_stats)
                return tree.setting(use, "track_running_stats", 4, False) is True
            return False

        for use, confidence, where in refused_layers(project, refused):
            if use.name in BATCH_NORMS:
                why = "it normalises with statistics of the whole batch, so samples are not independent"
                fix = "replace it with `nn.GroupNorm(math.gcd(32, C), C)` (what ModuleValidator.fix does)"
            else:
                why = "it tracks running statistics, which would need their own privacy mechanism"
                fix = "set `track_running_stats=False`"
            yield self.finding(
                project,
                use.module.file,
                use.call,
                f"`{use.name}` at `{use.path}` ({where}): make_private raises UnsupportedModuleError because "
                f"{why}. {fix[0].upper()}{fix[1:]}.",
                confidence=confidence,
            )

"""DPL206 loss-scaler-with-dp-optimizer: see README.md."""

from __future__ import annotations

from collections.abc import Iterator

from dp_lint.analysis.project import Project
from dp_lint.catalogue.rule import FixAvailability, Rule
from dp_lint.core.findings import Confidence, Finding


class LossScalerWithDpOptimizer(Rule):
    code = "DPL206"
    name = "loss-scaler-with-dp-optimizer"
    summary = "A GradScaler scales the loss of a private model: per-sample gradients are scaled before clipping"
    fix_availability = FixAvailability.NONE
    opacus_behaviours = ("grad-scaler-scales-grad-samples",)

    def check(self, project: Project) -> Iterator[Finding]:
        for setup in project.training_setups:
            optimizer = setup.returned("optimizer")
            for scaling in setup.loss_scalings(project.index):
                if not scaling.steps_private_optimizer:
                    continue  # the scaler may belong to another, non-private model
                yield self.report(
                    scaling.call,
                    f"`{scaling.scaler}.scale(...)` multiplies Opacus' per-sample gradients by the loss scale before "
                    f"clipping: the update is wrong.",
                    file=scaling.module.file, confidence=Confidence.HIGH,
                    help=(
                        f"`{scaling.scaler}` is a `{scaling.qualname}` and steps `{optimizer}`, the DP optimizer of the "
                        f"engine call at {setup.engine.label()}. Measured (opacus 1.4.1-1.6.0): `grad_sample` is 65536x (the "
                        f"initial scale) the true per-sample gradient, so clipping to max_grad_norm gives nearly every "
                        f"sample the same norm, and the scaler's unscale_ is lost (DPOptimizer recomputes `p.grad` from "
                        f"`grad_sample`). The privacy bound still holds, but the training is not the DP-SGD configured; "
                        f"no error is raised. Drop the GradScaler: use `torch.autocast(..., dtype=torch.bfloat16)`, "
                        f"which needs no loss scaling, with `loss.backward()` and `{optimizer}.step()`."
                    ),
                )

"""DPL220 trainable-layer-outside-optimizer: see README.md."""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial

from dp_lint.analysis.outside_optimizer import TrainableOutsideOptimizer, trainable_outside_optimizer
from dp_lint.analysis.project import Project
from dp_lint.catalogue.rule import FixAvailability, Rule
from dp_lint.core.findings import Confidence, Finding

_ERROR = "`ValueError: Poisson sampling is not compatible with grad accumulation`"


class TrainableLayerOutsideOptimizer(Rule):
    code = "DPL220"
    name = "trainable-layer-outside-optimizer"
    summary = ("A trainable layer of the private model that gets gradients but is not in the optimizer: the second "
               "batch raises")
    fix_availability = FixAvailability.NONE
    opacus_behaviours = ("unheld-trainable-layer-accumulates",)

    def check(self, project: Project) -> Iterator[Finding]:
        for setup in project.training_setups:
            none: list[TrainableOutsideOptimizer] = []
            label = f"trainable layers outside the optimizer at {setup.engine.label()}"
            for found in project.guarded(label, partial(trainable_outside_optimizer, setup, project), none):
                yield self._finding(found)

    def _finding(self, found: TrainableOutsideOptimizer) -> Finding:
        held = ", ".join(f"`{h}`" for h in found.held)
        message = (f"`{found.path}` is trainable and gets gradients, but `{found.optimizer}` holds only {held}: the "
                   f"second batch raises.")
        if len(message) > 120:
            message = (f"`{found.path}` is trainable and gets gradients but is not in `{found.optimizer}`: the second "
                       f"batch raises.")
        if len(message) > 120:
            message = "A trainable layer gets gradients but is not in the optimizer: the second batch raises."
        setup = found.setup
        help_text = (f"`{setup.engine.kind.value}` at {setup.engine.label()} hooks every trainable layer, so "
                     f"`{found.path}` ({found.description}) stores per-sample gradients at each backward; only the DP "
                     f"optimizer's `zero_grad()` clears them, and only for the parameters it holds. At the second "
                     f"batch Opacus finds the first batch's still there and raises {_ERROR} (measured, opacus "
                     f"1.4.1-1.6.0, hooks and functorch modes, Poisson sampling). Either freeze it before building "
                     f"the optimizer (`{found.path}.requires_grad_(False)`: a linear probe) or add its parameters "
                     f"to the optimizer (fine-tuning).")
        return self.report(found.statement, message, file=setup.module.file, help=help_text,
                           confidence=Confidence.HIGH if found.confident else Confidence.MEDIUM)

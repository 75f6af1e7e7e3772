"""DPL217 ghost-accumulation-under-accounted: see README.md."""

from __future__ import annotations

from collections.abc import Iterator

import libcst as cst

from dp_lint.analysis.accumulation import ghost_accumulation
from dp_lint.analysis.project import Project
from dp_lint.catalogue.rule import FixAvailability, Rule
from dp_lint.core.findings import Confidence, Finding


class GhostAccumulationUnderAccounted(Rule):
    code = "DPL217"
    name = "ghost-accumulation-under-accounted"
    summary = "Gradient accumulation in ghost mode: the accountant counts one batch per step, and the ε reported is too small"
    fix_availability = FixAvailability.NONE
    opacus_behaviours = ("ghost-accumulation-counts-one-batch",)

    def check(self, project: Project) -> Iterator[Finding]:
        for setup in project.training_setups:
            for found in ghost_accumulation(setup, project.index):
                call = cst.Module([]).code_for_node(found.backward)
                text = (f"`{call}` accumulates {found.steps} batches per step in ghost mode: the accountant counts "
                        f"one, so the ε reported is too small.")
                if len(text) > 120:
                    text = (f"This backward accumulates {found.steps} batches per step in ghost mode: the ε "
                            f"reported is too small.")
                yield self.report(
                    found.backward, text, file=found.module.file, confidence=Confidence.HIGH,
                    help=(f"The model made private at {setup.engine.label()} uses ghost clipping, whose optimizer "
                          f"accumulates the clipped gradients of several backward passes without an error but "
                          f"tells the accountant that each step used one batch: after {found.steps} batches per "
                          f"step the accountant's sample rate is {found.steps} times too small and `get_epsilon` "
                          f"under-reports the privacy spent (measured, opacus 1.5.4 and 1.6.0: 8 batches of 8 "
                          f"accumulated by 2 record `[(σ, 0.125, 4)]` and ε 3.17, where hooks mode without Poisson "
                          f"sampling records `[(σ, 0.25, 4)]` and ε 4.87). Give the data loader the logical batch "
                          f"size ({found.steps} times the physical one) and step after every backward, or use hooks "
                          f"mode with `poisson_sampling=False`, which accounts for accumulation."),
                )

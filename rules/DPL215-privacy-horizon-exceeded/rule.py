"""DPL215 privacy-horizon-exceeded: see README.md."""

from __future__ import annotations

from collections.abc import Iterator

from dp_lint.analysis.horizon import privacy_horizon_exceeded
from dp_lint.analysis.project import Project
from dp_lint.catalogue.rule import FixAvailability, Rule
from dp_lint.core.findings import Confidence, Finding


class PrivacyHorizonExceeded(Rule):
    code = "DPL215"
    name = "privacy-horizon-exceeded"
    summary = "More epochs than make_private_with_epsilon(epochs=...) calibrated the noise for: the final ε exceeds the target"
    fix_availability = FixAvailability.NONE
    opacus_behaviours = ("epsilon-grows-past-the-planned-epochs",)

    def check(self, project: Project) -> Iterator[Finding]:
        for setup in project.training_setups:
            for found in privacy_horizon_exceeded(setup, project.index):
                yield self.report(
                    found.loop,
                    f"This loop trains {found.epochs} epochs; the noise of `make_private_with_epsilon` "
                    f"({setup.engine.short_label(found.module.file)}) is for {found.planned}: ε ends above the target.",
                    file=found.module.file, confidence=Confidence.MEDIUM,
                    help=(f"`make_private_with_epsilon` at {setup.engine.label()} chose the noise multiplier that "
                          f"spends `target_epsilon` in `epochs={found.planned}` passes over its data loader; every "
                          f"step after those spends more, so after {found.epochs} epochs the privacy guarantee is "
                          f"weaker than the target (measured, opacus 1.4.1-1.6.0: target ε 5, 1 planned epoch, 3 "
                          f"run: `get_epsilon` 7.65 with the PRV accountant, 7.52 RDP, 9.63 GDP). Opacus raises "
                          f"nothing. Give `epochs=` the same value the loop runs (one variable for both), or stop "
                          f"the loop after {found.planned} epochs."),
                )

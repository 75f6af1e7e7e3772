"""DPL202 ghost-loss-not-from-returned-criterion: see README.md."""

from __future__ import annotations

from collections.abc import Iterator

from dp_lint.analysis.project import Project
from dp_lint.catalogue.rule import FixAvailability, Rule
from dp_lint.core.findings import Confidence, Finding


class GhostLossNotFromReturnedCriterion(Rule):
    code = "DPL202"
    name = "ghost-loss-not-from-returned-criterion"
    summary = "Ghost clipping, but the loss is computed with the original criterion: no per-sample clipping, silently"
    fix_availability = FixAvailability.NONE
    opacus_behaviours = ("ghost-clipping",)

    def check(self, project: Project) -> Iterator[Finding]:
        for setup in project.training_setups:
            if not setup.is_ghost or setup.target_count != 4:
                continue
            original = setup.argument_name("criterion")
            returned = setup.returned("criterion")
            if original is None or returned is None or original == returned:
                continue
            if "." not in original and setup.assigned_after(original):
                continue  # rebound after the engine call: dp-lint does not follow which value is called
            for call in setup.backward_calls_of(original):
                yield self.report(
                    call,
                    f"The loss comes from `{original}(...)`, not the returned `{returned}`: no per-sample clipping.",
                    help=(
                        f"Compute the loss with `{returned}(...)`. The ghost-clipping engine call at "
                        f"{setup.engine.label()} returned the criterion as `{returned}`: only the returned criterion "
                        f"runs ghost clipping's two backward passes, so per-sample clipping is disabled and the "
                        f"privacy guarantee does not hold (no error is raised)."
                    ),
                    file=setup.engine.file, confidence=Confidence.HIGH,
                )

"""DPL203 ghost-three-value-unpack: see README.md."""

from __future__ import annotations

from collections.abc import Iterator

from dp_lint.analysis.project import Project
from dp_lint.catalogue.rule import FixAvailability, Rule
from dp_lint.core.findings import Confidence, Finding


class GhostThreeValueUnpack(Rule):
    code = "DPL203"
    name = "ghost-three-value-unpack"
    summary = "make_private in ghost mode unpacked into three names: it returns four, the call raises ValueError"
    fix_availability = FixAvailability.NONE
    opacus_behaviours = ("ghost-clipping",)

    def check(self, project: Project) -> Iterator[Finding]:
        for setup in project.training_setups:
            if not setup.is_ghost or setup.target_count != 3:
                continue
            yield self.report(
                setup.engine.node,
                f"`{setup.engine.kind.value}(..., grad_sample_mode=\"ghost\")` returns four values, unpacked here "
                f"into three: it raises ValueError.",
                help=(
                    "Unpack four (`model, optimizer, criterion, loader = ...`) and compute the loss with the "
                    "returned criterion: only it clips per sample. In ghost mode it returns the module, optimizer, "
                    "criterion and data loader: `ValueError: too many values to unpack (expected 3)`."
                ),
                file=setup.engine.file, confidence=Confidence.HIGH,
            )

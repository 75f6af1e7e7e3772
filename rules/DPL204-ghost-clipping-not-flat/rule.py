"""DPL204 ghost-clipping-not-flat: see README.md."""

from __future__ import annotations

from collections.abc import Iterator

import libcst as cst

from dp_lint.analysis.project import Project
from dp_lint.catalogue.rule import FixAvailability, Rule
from dp_lint.core.findings import Confidence, Finding


class GhostClippingNotFlat(Rule):
    code = "DPL204"
    name = "ghost-clipping-not-flat"
    summary = "Ghost clipping with clipping other than \"flat\": make_private raises ValueError"
    fix_availability = FixAvailability.NONE
    opacus_behaviours = ("ghost-clipping",)

    def check(self, project: Project) -> Iterator[Finding]:
        for setup in project.training_setups:
            if not setup.is_ghost or not isinstance(setup.clipping, str) or setup.clipping == "flat":
                continue
            node: cst.CSTNode = setup.engine.node
            for arg in setup.engine.node.args:
                if arg.keyword is not None and arg.keyword.value == "clipping":
                    node = arg
            yield self.report(
                node,
                f"`clipping=\"{setup.clipping}\"` with `grad_sample_mode=\"ghost\"`: make_private raises ValueError.",
                help=(
                    f"Use `clipping=\"flat\"` (and one `max_grad_norm`), or per-layer clipping in hooks mode. Ghost "
                    f"clipping only clips the whole gradient, and make_private raises `ValueError: Unsupported "
                    f"combination of parameters. Clipping: {setup.clipping} and grad_sample_mode: ghost`."
                ),
                file=setup.engine.file, confidence=Confidence.HIGH,
            )

"""DPL110 fixed-batch-size: see README.md."""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial

from dp_lint.analysis.batch_size import FixedBatchShape, fixed_batch_shapes
from dp_lint.analysis.project import Project
from dp_lint.catalogue.rule import FixAvailability, Rule
from dp_lint.core.findings import Confidence, Finding


class FixedBatchSize(Rule):
    code = "DPL110"
    name = "fixed-batch-size"
    summary = "Model shape fixed to the loader's batch size: Poisson-sampled batches vary in size and the forward crashes"
    fix_availability = FixAvailability.NONE
    opacus_behaviours = ("poisson-batches-vary-in-size",)

    def check(self, project: Project) -> Iterator[Finding]:
        seen: set[int] = set()
        for setup in project.training_setups:
            none: list[FixedBatchShape] = []
            shapes = project.guarded(f"fixed batch shapes at {setup.engine.label()}",
                                     partial(fixed_batch_shapes, setup, project.index), none)
            for shape in shapes:
                if id(shape.node) in seen:
                    continue
                seen.add(id(shape.node))
                if shape.kind == "state":
                    what = f"`self.{shape.attribute}` is made with batch size `{shape.size}`"
                else:
                    what = f"`{shape.kind}({shape.size}, ...)` fixes the batch size"
                yield self.report(
                    shape.node,
                    f"{what} ({shape.batch_size}, the loader's), but Poisson-sampled batches vary in size.",
                    help=(
                        "Derive the batch size from the input in `forward` (`x.shape[0]` or `x.size(0)`), e.g. "
                        "create the initial state there. Under `make_private` with `poisson_sampling=True` (the "
                        f"default) each batch has a random size around {shape.batch_size}, so the forward raises "
                        "at the first batch of another size, e.g. `RuntimeError: The size of tensor a (11) must "
                        "match the size of tensor b (16) at non-singleton dimension 0` (engine call at "
                        f"{setup.engine.label()})."
                    ),
                    file=shape.file,
                    confidence=Confidence.MEDIUM,
                )

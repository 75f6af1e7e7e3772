"""DPL208 make-private-twice-on-one-model: see README.md."""

from __future__ import annotations

from collections.abc import Iterator

from dp_lint.analysis.project import Project
from dp_lint.analysis.training import repeated_engine_calls
from dp_lint.catalogue.rule import FixAvailability, Rule
from dp_lint.core.findings import Confidence, Finding


class MakePrivateTwiceOnOneModel(Rule):
    code = "DPL208"
    name = "make-private-twice-on-one-model"
    summary = "make_private on a model an earlier make_private already hooked: 'Trying to add hooks twice to the same model'"
    fix_availability = FixAvailability.NONE
    opacus_behaviours = ("make-private-twice-adds-hooks-twice",)

    def check(self, project: Project) -> Iterator[Finding]:
        for repeated in repeated_engine_calls(project.training_setups):
            setup, model = repeated.setup, repeated.model
            engine = setup.engine.kind.value
            if repeated.earlier is None:
                message = f"`{engine}` wraps `{model}` again on every round of this loop: the second round raises."
                where = "An earlier round of the loop"
            else:
                row = setup.engine.file.span(repeated.earlier.engine.node)[0].row
                message = f"`{model}` was already made private on line {row}: this second `{engine}` raises."
                where = f"The call at {repeated.earlier.engine.label()}"
            yield self.report(
                setup.engine.node,
                message,
                file=setup.engine.file,
                confidence=Confidence.HIGH if repeated.repeats and repeated.unconditional else Confidence.MEDIUM,
                help=(
                    f"{where} put Opacus' hooks on `{model}` itself (the returned GradSampleModule wraps the same "
                    f"object), and wrapping it again raises `ValueError: Trying to add hooks twice to the same model` "
                    f"(measured, opacus 1.4.1-1.6.0, also with a new PrivacyEngine). Give each round a fresh model "
                    f"(`copy.deepcopy` of a global model that is never made private itself), rebind the name to the "
                    f"module the call returns (`{model}, optimizer, loader = privacy_engine.{engine}(module={model}, "
                    f"...)`), or call `remove_hooks()` on the returned module before wrapping `{model}` again."
                ),
            )

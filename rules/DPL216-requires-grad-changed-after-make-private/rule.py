"""DPL216 requires-grad-changed-after-make-private: see README.md."""

from __future__ import annotations

from collections.abc import Iterator

from dp_lint.analysis.project import Project
from dp_lint.analysis.requires_grad import requires_grad_changed_after_engine
from dp_lint.catalogue.rule import FixAvailability, Rule
from dp_lint.core.findings import Confidence, Finding

_HOOKS_ERROR = "`ValueError: Per sample gradient is not initialized. Not updated in backward pass?`"
_GHOST_ERROR = "`AttributeError: 'Parameter' object has no attribute '_norm_sample'`"


class RequiresGradChangedAfterMakePrivate(Rule):
    code = "DPL216"
    name = "requires-grad-changed-after-make-private"
    summary = "Parameters of the DP optimizer unfrozen (or, in ghost mode, frozen) after make_private: the next step raises"
    fix_availability = FixAvailability.NONE
    opacus_behaviours = ("unfrozen-layer-has-no-hooks",)

    def check(self, project: Project) -> Iterator[Finding]:
        for setup in project.training_setups:
            engine = setup.engine.kind.value
            for found in requires_grad_changed_after_engine(setup):
                confidence = Confidence.MEDIUM if found.conditional else Confidence.HIGH
                if found.value:
                    row = setup.engine.file.span(found.frozen_before)[0].row if found.frozen_before else None
                    yield self.report(
                        found.statement,
                        f"`{found.frozen_path}` (frozen on line {row}, before `{engine}`) has no hooks: unfrozen "
                        f"here, the next step raises.",
                        file=setup.engine.file, confidence=confidence,
                        help=(f"`{engine}` at {setup.engine.label()} hooks only the layers that have a trainable "
                              f"parameter at that moment. `{found.frozen_path}` was frozen then, but its parameters are in "
                              f"the DP optimizer (built from all of the model's parameters): once they require "
                              f"grad again they get gradients and no per-sample gradients, and the step raises "
                              f"{_HOOKS_ERROR} (measured, opacus 1.4.1-1.6.0, hooks and functorch modes). Unfreeze "
                              f"before `{engine}` (train everything from the start), or, for progressive "
                              f"unfreezing, call `{engine}` again on a fresh optimizer and the original module "
                              f"after unfreezing (a new budget: account for both). Freezing after the call and "
                              f"unfreezing a layer left out of the optimizer train (measured)."),
                    )
                else:
                    yield self.report(
                        found.statement,
                        f"`{found.path}` is frozen after `{engine}` in ghost mode: the next step raises.",
                        file=setup.engine.file, confidence=confidence,
                        help=(f"In ghost mode (`grad_sample_mode=\"ghost\"` at {setup.engine.label()}) a parameter "
                              f"of the DP optimizer frozen after the call gets no per-sample gradient norm, and "
                              f"the step raises {_GHOST_ERROR} (measured, opacus 1.5.4 and 1.6.0). Freeze before "
                              f"building the optimizer and calling `{engine}` (and leave the frozen parameters out "
                              f"of the optimizer), or use hooks mode, where freezing after the call trains."),
                    )

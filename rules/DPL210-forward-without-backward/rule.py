"""DPL210 forward-without-backward: see README.md."""

from __future__ import annotations

from collections.abc import Iterator

from dp_lint.analysis.engine_calls import GradSampleMode
from dp_lint.analysis.extra_forwards import UnconsumedForward, unconsumed_forwards
from dp_lint.analysis.project import Project
from dp_lint.catalogue.rule import FixAvailability, Rule
from dp_lint.core.findings import Applicability, Confidence, Finding, Fix
from dp_lint.fix.edits import (
    FixUnavailable,
    make_fix,
    no_grad_expression,
    replace_nodes,
    statement_in_block,
    under_no_grad,
    with_import,
)

_HOOKS_ERROR = "`ValueError: Per sample gradient is not initialized. Not updated in backward pass?`"
_GHOST_ERROR = "`NotImplementedError: Parameter tying is not supported with Ghost Clipping`"


class ForwardWithoutBackward(Rule):
    code = "DPL210"
    name = "forward-without-backward"
    summary = "A forward of the private model with grad enabled that no backward consumes: the next step raises"
    fix_availability = FixAvailability.SAFE
    opacus_behaviours = ("unconsumed-forward-breaks-next-step",)

    def check(self, project: Project) -> Iterator[Finding]:
        for setup in project.training_setups:
            ghost = setup.grad_sample_mode is GradSampleMode.GHOST
            for found in unconsumed_forwards(setup, project.index):
                row = found.module.file.span(found.loop)[0].row
                call = f"`{found.model}(...)`"
                if ghost:
                    consequence = "the next forward raises NotImplementedError"
                elif found.where == "before-step":
                    consequence = f"`{found.optimizer}.step()` then raises ValueError"
                elif found.where == "after-step":
                    consequence = "the next round's step raises ValueError"
                else:
                    consequence = "its first step raises ValueError"
                place = {"before-loop": f"before the training loop on line {row}",
                         "before-step": "in the training loop", "after-step": "after the step"}[found.where]
                confidence = Confidence.MEDIUM if found.conditional or found.where == "after-step" else Confidence.HIGH
                error = _GHOST_ERROR if ghost else _HOOKS_ERROR
                yield self.report(
                    found.call,
                    f"{call} {place} reaches no `.backward()`: {consequence}.",
                    file=found.module.file, confidence=confidence,
                    help=(f"Run it under `with torch.no_grad():` (its result is only read, never differentiated). "
                          f"Opacus' hooks record the activations of every forward of the model made private at "
                          f"{setup.engine.label()} in training mode with grad enabled; a forward that no backward "
                          f"consumes leaves them behind, so {error} (measured, opacus 1.4.1-1.6.0; "
                          f"`optimizer.zero_grad()` does not clear them)."),
                    fix=_fix(project, found),
                )


def _fix(project: Project, found: UnconsumedForward) -> Fix | None:
    file = found.module.file
    try:
        statement = statement_in_block(found.call, file.parents)
        no_grad, import_needed = no_grad_expression(project.index.by_file[file])
        wrapped = under_no_grad([statement], no_grad, statement)
        tree = replace_nodes(file.module, {statement: wrapped}, file.parents)
        if import_needed:
            tree = with_import(tree, import_needed)
        return make_fix(file.text, tree, Applicability.SAFE, f"Run `{found.model}(...)` under `torch.no_grad()`")
    except FixUnavailable:
        return None


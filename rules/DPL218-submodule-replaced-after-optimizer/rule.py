"""DPL218 submodule-replaced-after-optimizer: see README.md."""

from __future__ import annotations

from collections.abc import Iterator

from dp_lint.analysis.project import Project
from dp_lint.analysis.replaced_modules import ReplacedAfterOptimizer, replaced_after_optimizer
from dp_lint.analysis.training import TrainingSetup
from dp_lint.catalogue.rule import FixAvailability, Rule
from dp_lint.core.findings import Confidence, Finding

_ENGINE_ERROR = "`ValueError: Module parameters are different than optimizer Parameters`"
_STEP_ERRORS = ("`ValueError: Per sample gradient is not initialized. Not updated in backward pass?` (hooks and "
                "functorch modes; ghost mode: `AttributeError: 'Parameter' object has no attribute '_norm_sample'`)")
_PARAMETER_ERROR = "`AttributeError: 'Parameter' object has no attribute '_forward_counter'`"


class SubmoduleReplacedAfterOptimizer(Rule):
    code = "DPL218"
    name = "submodule-replaced-after-optimizer"
    summary = ("A trainable layer of the private model replaced after its optimizer was built: make_private (or the "
               "next DP step) raises")
    fix_availability = FixAvailability.NONE
    opacus_behaviours = ("replaced-layer-stays-in-optimizer",)

    def check(self, project: Project) -> Iterator[Finding]:
        for setup in project.training_setups:
            for found in replaced_after_optimizer(setup, project.index, project.modules):
                yield self._finding(setup, found)

    def _finding(self, setup: TrainingSetup, found: ReplacedAfterOptimizer) -> Finding:
        engine = setup.engine.kind.value
        file = setup.engine.file
        built = file.span(found.optimizer_statement)[0].row
        what = "parameter" if found.parameter else "layer"
        where = f" (in `{found.helper}`)" if found.helper else ""
        if not found.after_engine:
            message = (f"`{found.path}`{where} is replaced after `{found.optimizer}` (line {built}) took its "
                       f"parameters: `{engine}` raises.")
            help_text = (f"`{found.optimizer}` was built on line {built} from the model's parameters, including the "
                         f"old {what} of `{found.path}` ({found.old}); after the replacement the model no longer has "
                         f"them, and `{engine}` at {setup.engine.label()} raises {_ENGINE_ERROR} (measured, opacus "
                         f"1.4.1-1.6.0, every mode). Replace the {what} first, then build the optimizer from the "
                         f"model's parameters (without DP the old optimizer would not train the new {what} either).")
        else:
            error = _PARAMETER_ERROR if found.parameter else _STEP_ERRORS
            message = (f"`{found.path}`{where} is replaced after `{engine}`: the DP optimizer holds the old {what}, "
                       f"the next step raises.")
            help_text = (f"`{engine}` at {setup.engine.label()} hooked the model and wrapped `{found.optimizer}` "
                         f"(built on line {built} from its parameters, including the old {what} of `{found.path}`, "
                         f"{found.old}). The replacement gets no per-sample gradients into the optimizer, the old "
                         f"parameters none at all, and the next step raises {error} (measured, opacus 1.4.1-1.6.0). "
                         f"Replace the {what} before building the optimizer and calling `{engine}`.")
        return self.report(found.statement, message, file=file, help=help_text,
                           confidence=Confidence.MEDIUM if found.conditional else Confidence.HIGH)

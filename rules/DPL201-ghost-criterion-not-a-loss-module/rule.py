"""DPL201 ghost-criterion-not-a-loss-module: see README.md."""

from __future__ import annotations

from collections.abc import Iterator

import libcst as cst

from dp_lint.analysis.index import ModuleInfo
from dp_lint.analysis.project import Project
from dp_lint.analysis.training import CriterionKind
from dp_lint.analysis.values import UNKNOWN
from dp_lint.catalogue.rule import FixAvailability, Rule
from dp_lint.core.findings import Applicability, Confidence, Finding, Fix
from dp_lint.files.source import SourceFile
from dp_lint.fix.edits import FixUnavailable, make_fix, replace_nodes

# torch.nn.functional losses and the loss module computing the same with its default arguments.
LOSS_MODULES = {
    "cross_entropy": "CrossEntropyLoss",
    "nll_loss": "NLLLoss",
    "mse_loss": "MSELoss",
    "l1_loss": "L1Loss",
    "smooth_l1_loss": "SmoothL1Loss",
    "huber_loss": "HuberLoss",
    "binary_cross_entropy": "BCELoss",
    "binary_cross_entropy_with_logits": "BCEWithLogitsLoss",
}


class GhostCriterionNotALossModule(Rule):
    code = "DPL201"
    name = "ghost-criterion-not-a-loss-module"
    summary = "Ghost clipping given a function or lambda as criterion: per-sample clipping silently does not happen"
    fix_availability = FixAvailability.SAFE
    opacus_behaviours = ("ghost-clipping",)

    def check(self, project: Project) -> Iterator[Finding]:
        for setup in project.training_setups:
            if not setup.is_ghost or setup.criterion_arg is None:
                continue
            criterion = setup.criterion(project.index)
            if criterion is UNKNOWN or criterion.kind not in (CriterionKind.FUNCTION, CriterionKind.LAMBDA):
                continue
            what_short = "a lambda" if criterion.kind is CriterionKind.LAMBDA else "a function"
            what = "a lambda" if criterion.kind is CriterionKind.LAMBDA else f"the function `{criterion.qualname}`"
            replacement = None
            if criterion.qualname and criterion.qualname.startswith("torch.nn.functional."):
                loss = LOSS_MODULES.get(criterion.qualname.rsplit(".", 1)[-1])
                replacement = _shortest_name(setup.module, f"torch.nn.{loss}") if loss else None
            advice = (f"pass the loss module `{replacement}()` instead" if replacement else
                      "pass an `nn.Module` loss whose `reduction` Opacus can set (e.g. `nn.CrossEntropyLoss()`)")
            message = (
                f"`criterion=` of the ghost-clipping call at {setup.engine.short_label(setup.engine.file)} is "
                f"{what_short}: "
                f"no per-sample clipping."
            )
            help = (
                f"{advice[0].upper()}{advice[1:]}. The criterion of the ghost-clipping engine call at "
                f"{setup.engine.label()} is {what}. Opacus sets `criterion.reduction = \"none\"` to get per-sample "
                f"losses, a function ignores it and returns the batch loss, so the clipping coefficients scale the "
                f"whole batch's gradient: per-sample clipping is disabled, and the privacy guarantee does not hold "
                f"(no error is raised)."
            )
            fix = None
            if replacement is not None and setup.criterion_arg is criterion.node:
                fix = self._fix(setup.engine.file, setup.criterion_arg, replacement)
            yield self.report(setup.criterion_arg, message, help=help, file=setup.engine.file,
                              confidence=Confidence.HIGH, fix=fix)

    @staticmethod
    def _fix(file: SourceFile, node: cst.BaseExpression, replacement: str) -> Fix | None:
        try:
            new = cst.Call(cst.parse_expression(replacement))
            tree = replace_nodes(file.module, {node: new}, file.parents)
            return make_fix(file.text, tree, Applicability.SAFE, f"Pass `{replacement}()`")
        except FixUnavailable:
            return None


def _shortest_name(module: ModuleInfo, qualname: str) -> str | None:
    """The shortest way to write `qualname` with this module's imports (`nn.CrossEntropyLoss`)."""
    names = [local + qualname[len(target):] for local, target in module.imports.items()
             if qualname == target or qualname.startswith(target + ".")]
    return min(names, key=len) if names else None

"""DPL105 loss-reduction-mismatch: see README.md."""

from __future__ import annotations

from collections.abc import Iterator

import libcst as cst

from dp_lint.analysis.engine_calls import GradSampleMode, LossReduction
from dp_lint.analysis.project import Project
from dp_lint.analysis.training import CriterionKind, TrainingSetup, resolve_criterion
from dp_lint.analysis.values import UNKNOWN
from dp_lint.catalogue.rule import FixAvailability, Rule
from dp_lint.core.findings import Applicability, Confidence, Finding, Fix
from dp_lint.files.syntax import dotted_name, keyword_argument
from dp_lint.fix.edits import FixUnavailable, make_fix, replace_nodes

_HOOKS_MODES = (GradSampleMode.HOOKS, GradSampleMode.FUNCTORCH, GradSampleMode.EW)


class LossReductionMismatch(Rule):
    code = "DPL105"
    name = "loss-reduction-mismatch"
    summary = "Criterion reduction disagrees with the engine's loss_reduction: per-sample gradients scaled by the batch size"
    fix_availability = FixAvailability.SAFE
    opacus_behaviours = ("loss-reduction-scales-grad-samples",)

    def check(self, project: Project) -> Iterator[Finding]:
        for setup in project.training_setups:
            engine = setup.engine
            if not isinstance(engine.loss_reduction, LossReduction):
                continue
            expected = engine.loss_reduction.value
            if setup.is_ghost:
                yield from self._ghost(project, setup, expected)
            elif engine.grad_sample_mode in _HOOKS_MODES:
                yield from self._hooks(project, setup, expected)

    def _ghost(self, project: Project, setup: TrainingSetup, expected: str) -> Iterator[Finding]:
        criterion = setup.criterion(project.index)
        if criterion is UNKNOWN or criterion.kind is not CriterionKind.LOSS_MODULE:
            return
        if not isinstance(criterion.reduction, str) or criterion.reduction == expected or setup.criterion_arg is None:
            return
        yield self.report(
            setup.criterion_arg,
            f"The criterion has `reduction=\"{criterion.reduction}\"` but the engine call at "
            f"{setup.engine.short_label(setup.engine.file)} has `loss_reduction=\"{expected}\"`: make_private raises.",
            help=(
                f"Pass `loss_reduction=\"{criterion.reduction}\"` to the engine call. The ghost-clipping engine "
                f"call at {setup.engine.label()} and its criterion must reduce alike: make_private raises "
                f"`AssertionError: loss_reduction should be the same across GradSampleModule, Optimizer, "
                f"Criterion, and loss_reduction`."
            ),
            file=setup.engine.file, confidence=Confidence.HIGH,
            fix=self._fix(setup, criterion.reduction),
        )

    def _hooks(self, project: Project, setup: TrainingSetup, expected: str) -> Iterator[Finding]:
        found: list[tuple[cst.Call, str]] = []
        written = True  # every reduction is written as a literal (or absent) in the source
        for call in setup.backward_calls():
            read = self._reduction(project, setup, call)
            if read is not None:
                found.append((call, read[0]))
                written = written and read[1]
        if {r for _, r in found} - {"mean", "sum"}:
            return
        wrong = [(call, r) for call, r in found if r != expected]
        # A reduction read from a config or a command-line default can change at run time: a
        # literal `loss_reduction=` would then disagree the other way, so no fix is offered.
        fixable = len({r for _, r in found}) == 1 and written
        for call, reduction in wrong:
            scale = "B times (B: the batch size)" if reduction == "sum" else "1/B of"
            yield self.report(
                call,
                f"This loss has `reduction=\"{reduction}\"` but the engine call at "
                f"{setup.engine.short_label(setup.engine.file)} has `loss_reduction=\"{expected}\"`: "
                f"wrong gradient scale.",
                help=(
                    f"Pass `loss_reduction=\"{reduction}\"` to the engine call (at {setup.engine.label()}). "
                    f"Opacus' per-sample gradients are {scale} the true ones (measured). They are clipped to "
                    f"max_grad_norm afterwards, so the privacy guarantee still holds, but the update is wrong: "
                    f"samples are clipped by the wrong norm and the noise is calibrated for another scale "
                    f"(no error is raised)."
                ),
                file=setup.engine.file, confidence=Confidence.HIGH,
                fix=self._fix(setup, reduction) if fixable else None,
            )

    @staticmethod
    def _reduction(project: Project, setup: TrainingSetup, call: cst.Call) -> tuple[str, bool] | None:
        """The reduction of a loss call and whether it is written as a literal (or absent);
        None when it is no loss dp-lint can read."""
        name = dotted_name(call.func)
        if name is None:
            return None
        qualname = setup.module.resolve_expr(call.func)
        if qualname is not None and qualname.startswith("torch.nn.functional.") and qualname.endswith(("_loss", "entropy", "_logits")):
            value = keyword_argument(call, "reduction")
            if value is None:
                return None if any(a.star for a in call.args) else ("mean", True)
            return (value.value[1:-1], True) if isinstance(value, cst.SimpleString) else None
        criterion = resolve_criterion(call.func, setup.module, project.index, setup.scope, setup.function,
                                      values=setup.values)
        if criterion is UNKNOWN or criterion.kind is not CriterionKind.LOSS_MODULE or not isinstance(criterion.reduction, str):
            return None
        if criterion.qualname is None or not criterion.qualname.startswith("torch.nn."):
            return None
        written = keyword_argument(criterion.node, "reduction") if isinstance(criterion.node, cst.Call) else None
        return criterion.reduction, written is None or isinstance(written, cst.SimpleString)

    @staticmethod
    def _fix(setup: TrainingSetup, reduction: str) -> Fix | None:
        call = setup.engine.node
        if any(a.star for a in call.args) or reduction not in ("mean", "sum"):
            return None
        file = setup.engine.file
        new_value = cst.SimpleString(f'"{reduction}"')
        try:
            existing = keyword_argument(call, "loss_reduction")
            if existing is not None:
                if not isinstance(existing, cst.SimpleString):
                    return None
                tree = replace_nodes(file.module, {existing: new_value}, file.parents)
            else:
                last = call.args[-1]
                previous = call.args[-2].comma if len(call.args) > 1 else None
                comma: cst.Comma = cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
                if isinstance(previous, cst.Comma) and isinstance(last.comma, cst.Comma):
                    before, after = previous.whitespace_after, last.comma.whitespace_after
                    if isinstance(before, cst.ParenthesizedWhitespace) and isinstance(after, cst.ParenthesizedWhitespace):
                        # the line break and indent of the arguments, without a comment of that line
                        comma = previous.with_changes(whitespace_after=before.with_changes(
                            first_line=after.first_line, empty_lines=[]))
                    else:
                        comma = previous
                new_arg = cst.Arg(keyword=cst.Name("loss_reduction"), value=new_value,
                                  equal=cst.AssignEqual(cst.SimpleWhitespace(""), cst.SimpleWhitespace("")),
                                  comma=last.comma)
                args = [*call.args[:-1], last.with_changes(comma=comma), new_arg]
                tree = replace_nodes(file.module, {call: call.with_changes(args=args)}, file.parents)
            return make_fix(file.text, tree, Applicability.SAFE, f"Pass `loss_reduction=\"{reduction}\"`")
        except FixUnavailable:
            return None

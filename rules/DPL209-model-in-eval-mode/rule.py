"""DPL209 model-in-eval-mode: see README.md."""

from __future__ import annotations

from collections.abc import Iterator

import libcst as cst

from dp_lint.analysis.project import Project
from dp_lint.analysis.training import eval_mode_at_engine_call
from dp_lint.catalogue.rule import FixAvailability, Rule
from dp_lint.core.findings import Applicability, Confidence, Finding, Fix
from dp_lint.files.source import SourceFile
from dp_lint.fix.edits import FixUnavailable, make_fix, replace_nodes

_HOOKS_ERROR = ("`IndexError: pop from empty list` when the model was trained before, `ValueError: No activations "
                "detected for <class 'torch.nn.modules.linear.Linear'>, run forward after add_hooks(model)` when not")


class ModelInEvalMode(Rule):
    code = "DPL209"
    name = "model-in-eval-mode"
    summary = "The private model is in eval mode at make_private or in the training loop: Opacus raises"
    fix_availability = FixAvailability.UNSAFE
    opacus_behaviours = ("eval-mode-breaks-make-private-and-hooks",)

    def check(self, project: Project) -> Iterator[Finding]:
        for setup in project.training_setups:
            engine = setup.engine.kind.value
            at_engine = eval_mode_at_engine_call(setup, project.index)
            if at_engine is not None:
                model = setup.argument_name("module")
                yield self.report(
                    setup.engine.node,
                    f"`{model}` is in eval mode at this `{engine}`: it raises 'Model needs to be in training mode'.",
                    file=setup.engine.file, confidence=Confidence.HIGH,
                    help=(f"The last mode change of `{model}` before the call is an `.eval()`; `{engine}` validates "
                          f"the model and raises `UnsupportedModuleError([IllegalModuleConfigurationError('Model needs "
                          f"to be in training mode')])` (measured, opacus 1.4.1-1.6.0). Call `{model}.train()` before "
                          f"`{engine}`."),
                    fix=_train_before(setup.engine.file, setup.statement, model) if model else None,
                )
                continue
            for found in setup.eval_mode_training(project.index):
                row = setup.engine.file.span(found.loop)[0].row
                switch = f"`{found.through}(...)`" if found.through else f"`{found.model}.eval()`"
                if found.when == "entry":
                    message = (f"{switch} leaves the private model in eval mode for the training loop on line {row}: "
                               f"its first backward raises.")
                    confidence = Confidence.HIGH
                else:
                    message = (f"{switch} leaves the private model in eval mode: the next round of the loop on line "
                               f"{row} raises at backward.")
                    confidence = Confidence.HIGH if found.repeats else Confidence.MEDIUM
                yield self.report(
                    found.eval_call, message, file=found.module.file, confidence=confidence,
                    help=(f"Opacus' hooks record a layer's activations only in training mode, so a backward of the "
                          f"model made private at {setup.engine.label()} in eval mode fails: {_HOOKS_ERROR} (measured, "
                          f"opacus 1.4.1-1.6.0). Call `.train()` on the model at the start of each training round "
                          f"(or right after the evaluation)."),
                    fix=self._fix(setup.engine.file, found.loop, found.when, found.model)
                    if found.module.file is setup.engine.file else None,
                )

    @staticmethod
    def _fix(file: SourceFile, loop: cst.For | cst.While, when: str, model: str) -> Fix | None:
        if when == "entry":
            return _train_before(file, loop, model)
        if not isinstance(loop.body, cst.IndentedBlock) or not loop.body.body:
            return None
        first = loop.body.body[0]
        try:
            tree = replace_nodes(file.module, {first: cst.FlattenSentinel([_train_statement(model), first])}, file.parents)
            return make_fix(file.text, tree, Applicability.UNSAFE, f"Call `{model}.train()` at the start of each round")
        except FixUnavailable:
            return None


def _train_statement(model: str, leading: object = ()) -> cst.SimpleStatementLine:
    return cst.SimpleStatementLine([cst.Expr(cst.parse_expression(f"{model}.train()"))],
                                   leading_lines=leading)  # type: ignore[arg-type]


def _train_before(file: SourceFile, statement: cst.CSTNode, model: str) -> Fix | None:
    """`model.train()` on its own line just before `statement` (which keeps its comments below it)."""
    if not isinstance(statement, (cst.SimpleStatementLine, cst.BaseCompoundStatement)):
        return None
    try:
        train = _train_statement(model, statement.leading_lines)
        tree = replace_nodes(file.module, {statement: cst.FlattenSentinel([
            train, statement.with_changes(leading_lines=())])}, file.parents)
        return make_fix(file.text, tree, Applicability.UNSAFE, f"Call `{model}.train()` first")
    except FixUnavailable:
        return None

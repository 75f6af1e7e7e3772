"""DPL213 model-zero-grad-only: see README.md."""

from __future__ import annotations

from collections.abc import Iterator

import libcst as cst

from dp_lint.analysis.accumulation import ModelZeroGradOnly as Found
from dp_lint.analysis.accumulation import model_zero_grad_only
from dp_lint.analysis.project import Project
from dp_lint.catalogue.rule import FixAvailability, Rule
from dp_lint.core.findings import Applicability, Confidence, Finding, Fix
from dp_lint.fix.edits import FixUnavailable, make_fix, replace_nodes

_ERROR = ("`ValueError: Gradients haven't been cleared since the last optimizer step. In order to obtain privacy "
          "guarantees you must call optimizer.zero_grad()on each step`")


class ModelZeroGradOnly(Rule):
    code = "DPL213"
    name = "model-zero-grad-only"
    summary = "Gradients cleared only with the private model's zero_grad(), never the DP optimizer's: the second step raises"
    fix_availability = FixAvailability.SAFE
    opacus_behaviours = ("module-zero-grad-keeps-summed-grad",)

    def check(self, project: Project) -> Iterator[Finding]:
        for setup in project.training_setups:
            for found in model_zero_grad_only(setup, project.index):
                yield self.report(
                    found.zero_grad, _message(found),
                    file=found.module.file, confidence=Confidence.HIGH,
                    help=(f"Call `{found.optimizer}.zero_grad()` (the DP optimizer made private at "
                          f"{setup.engine.label()}) every step, in place of or next to `{found.model}.zero_grad()`. "
                          f"The model's `zero_grad()` clears the parameters' `grad` and `grad_sample`, but the DP "
                          f"optimizer's step keeps each parameter's clipped sum (`p.summed_grad`) marked as used "
                          f"until the optimizer's own `zero_grad()` clears it, so the next step raises {_ERROR} "
                          f"(measured, opacus 1.4.1-1.6.0, hooks and functorch modes, with or without Poisson "
                          f"sampling)."),
                    fix=_fix(found),
                )


def _message(found: Found) -> str:
    call, optimizer = _code(found.zero_grad), found.optimizer
    for text in (f"`{call}` is the loop's only `zero_grad()`, never `{optimizer}.zero_grad()`: the second "
                 f"`{optimizer}.step()` raises.",
                 f"`{call}` is the loop's only `zero_grad()`: the DP optimizer's second step raises.",
                 f"The loop clears gradients only with `{found.model}.zero_grad()`: the second step raises."):
        if len(text) <= 120:
            break
    return text


def _fix(found: Found) -> Fix | None:
    """`<optimizer>.zero_grad(...)` (the same arguments) on its own line after the model's: in ordinary training
    it clears a subset of what the model's call just cleared (the optimizer's parameters are the model's, or
    the DP step could not run), so nothing else changes."""
    file = found.module.file
    line = file.parents.get(file.parents.get(found.zero_grad))
    if not isinstance(line, cst.SimpleStatementLine) or not any(
            isinstance(small, cst.Expr) and small.value is found.zero_grad for small in line.body):
        return None
    call = cst.Call(cst.parse_expression(f"{found.optimizer}.zero_grad"), args=found.zero_grad.args)
    clear = cst.SimpleStatementLine([cst.Expr(call)])
    try:
        tree = replace_nodes(file.module, {line: cst.FlattenSentinel([line, clear])}, file.parents)
        return make_fix(file.text, tree, Applicability.SAFE, f"Also call `{found.optimizer}.zero_grad()`")
    except FixUnavailable:
        return None


def _code(node: cst.CSTNode) -> str:
    return cst.Module([]).code_for_node(node)

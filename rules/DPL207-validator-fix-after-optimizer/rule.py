"""DPL207 validator-fix-after-optimizer: see README.md."""

from __future__ import annotations

from collections.abc import Iterator

import libcst as cst

from dp_lint.analysis.project import Project
from dp_lint.analysis.training import FixAfterOptimizer, TrainingSetup
from dp_lint.catalogue.rule import FixAvailability, Rule
from dp_lint.core.findings import Applicability, Confidence, Finding, Fix
from dp_lint.files.syntax import dotted_name
from dp_lint.fix.edits import FixUnavailable, make_fix, replace_nodes


class ValidatorFixAfterOptimizer(Rule):
    code = "DPL207"
    name = "validator-fix-after-optimizer"
    summary = "ModuleValidator.fix after the optimizer was built: the optimizer holds the old parameters, make_private raises"
    fix_availability = FixAvailability.UNSAFE
    opacus_behaviours = ("validator-fix-returns-a-copy",)

    def check(self, project: Project) -> Iterator[Finding]:
        for setup in project.training_setups:
            found = setup.validator_fix_after_optimizer(project.index)
            if found is None:
                continue
            yield self.report(
                found.fix_call,
                f"`ModuleValidator.fix` copies `{found.owner}`; `{found.optimizer}` still holds the old parameters: "
                f"make_private raises.",
                file=setup.engine.file,
                # Under an `if` of its own (`if not ModuleValidator.is_valid(model):`) the fix may not run.
                confidence=Confidence.HIGH if self._same_block(setup, found) else Confidence.MEDIUM,
                help=(
                    f"The engine call at {setup.engine.label()} gets `module={found.fixed}` and "
                    f"`optimizer={found.optimizer}`, built before the fix from `{found.owner}`'s parameters: it raises "
                    f"`ValueError: Module parameters are different than optimizer Parameters` (measured, opacus "
                    f"1.5.4 and 1.6.0; ModuleValidator.fix always deep-copies the model, even when nothing needs fixing). "
                    f"Build the optimizer after the fix, from the fixed model's parameters."
                ),
                fix=self._fix(setup, found),
            )

    @staticmethod
    def _same_block(setup: TrainingSetup, found: FixAfterOptimizer) -> bool:
        """Does the fix run whenever the engine call does: in its block, or at the top of a function body?"""
        parents = setup.engine.file.parents
        block = parents.get(found.fix_statement)
        return block is parents.get(setup.statement) or isinstance(parents.get(block), cst.FunctionDef)

    @staticmethod
    def _fix(setup: TrainingSetup, found: FixAfterOptimizer) -> Fix | None:
        """Move the optimizer's construction to just after the fix, when both are statements of one
        block, the fix rebinds the model the optimizer reads, and nothing in between uses the optimizer
        or changes what its construction reads."""
        file = setup.engine.file
        parents = file.parents
        built, fixed = found.construction_statement, found.fix_statement
        block = parents.get(built)
        if found.fixed != found.owner or block is None or parents.get(fixed) is not block:
            return None
        body = list(getattr(block, "body", ()))
        if built not in body or fixed not in body:
            return None
        between = body[body.index(built) + 1:body.index(fixed)]
        read = {name for n in _names(found.construction) if (name := dotted_name(n)) is not None} - {found.owner}
        for stmt in between:
            mentioned = {dotted_name(n) for n in _names(stmt)}
            if found.optimizer in mentioned or any(_binds_any(stmt, name) for name in read):
                return None
        try:
            tree = replace_nodes(file.module, {
                built: cst.RemovalSentinel.REMOVE,
                fixed: cst.FlattenSentinel([fixed, built]),
            }, parents)
            return make_fix(file.text, tree, Applicability.UNSAFE,
                            f"Build `{found.optimizer}` after `ModuleValidator.fix`")
        except FixUnavailable:
            return None


def _names(node: cst.CSTNode) -> list[cst.BaseExpression]:
    """Every name and attribute chain below `node`."""
    found: list[cst.BaseExpression] = []

    class Collect(cst.CSTVisitor):
        def visit_Name(self, name: cst.Name) -> None:
            found.append(name)

        def visit_Attribute(self, attribute: cst.Attribute) -> None:
            found.append(attribute)

    node.visit(Collect())
    return found


def _binds_any(stmt: cst.CSTNode, name: str) -> bool:
    """Does `stmt` assign `name` or the root of `name` (anything an expression reading `name` depends on)?"""
    root = name.split(".")[0]
    for small in getattr(stmt, "body", ()) if isinstance(stmt, cst.SimpleStatementLine) else ():
        targets = small.targets if isinstance(small, cst.Assign) else \
            [small] if isinstance(small, (cst.AnnAssign, cst.AugAssign)) else []
        for target in targets:
            if any(dotted_name(n) in (name, root) for n in _names(target.target)):
                return True
    return not isinstance(stmt, cst.SimpleStatementLine)  # a block in between: not worth reading

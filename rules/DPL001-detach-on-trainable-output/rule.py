"""DPL001 detach-on-trainable-output: see README.md."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

import libcst as cst
from libcst.metadata import CodeRange

from dp_lint.analysis.gradient_flow import CallSite, StopKind, StopPoint
from dp_lint.analysis.project import Project
from dp_lint.catalogue.rule import FixAvailability, Rule
from dp_lint.core.findings import Applicability, Confidence, Finding, Fix
from dp_lint.files.source import SourceFile
from dp_lint.files.syntax import Parents, contains, enclosing
from dp_lint.fix.edits import (
    FixUnavailable,
    calls_before,
    fresh_name,
    make_fix,
    no_grad_expression,
    replace_nodes,
    statement_in_block,
    under_no_grad,
    with_import,
)

# Stop-gradients made redundant by no_grad.
_DROPPED = frozenset({StopKind.METHOD, StopKind.ATTRIBUTE, StopKind.FUNCTION})


class DetachOnTrainableOutput(Rule):
    code = "DPL001"
    name = "detach-on-trainable-output"
    summary = "Stop-gradient on the output of a trainable submodule call: Opacus raises at step()"
    fix_availability = FixAvailability.SAFE
    opacus_behaviours = ("stop-gradient-breaks-grad-sample",)

    def check(self, project: Project) -> Iterator[Finding]:
        for cls in project.module_classes():
            if not project.may_be_private(cls):
                continue
            flow = project.gradient_flow(cls)
            if not flow.analyzed or not flow.has_outputs:
                continue
            model = project.modules.model(cls)
            for site in flow.call_sites:
                if flow.reaches_with_gradient(site) or project.left_out_of_optimizers(cls, site.attr):
                    continue
                stops = flow.stops_for(site)
                fix = None
                if stops:
                    try:
                        fix = self._fix(project, site, stops)
                    except FixUnavailable:
                        fix = None
                for stop in stops:
                    sub = model.submodules[site.attr]
                    yield self.report(
                        stop,
                        self._message(site.attr, stop.how),
                        help=self._help(site.attr, sub.description),
                        confidence=Confidence.HIGH if site.confident else Confidence.MEDIUM,
                        fix=fix,
                    )

    @staticmethod
    def _message(attr: str, how: str) -> str:
        return f"{how} stops every gradient of `self.{attr}(...)`: step() raises ValueError."

    @staticmethod
    def _help(attr: str, description: str) -> str:
        return (
            f"Run this call under `with torch.no_grad():` instead. The output of `self.{attr}(...)` ({description}) "
            f"reaches the result of forward() only through this stop-gradient: Opacus counts the call but never "
            f"gets its backward, and optimizer.step() raises `ValueError: Per sample gradient is not initialized`."
        )

    # -- the fix ---------------------------------------------------------------------

    def _fix(self, project: Project, site: CallSite, stops: list[StopPoint]) -> Fix:
        file = site.file
        if any(stop.file is not file for stop in stops):
            raise FixUnavailable("the stop-gradient is in another file")
        module_info = project.index.by_file[file]
        no_grad, import_needed = no_grad_expression(module_info)
        direct = [s for s in stops if s.operand is not None and contains(s.operand, site.node)]
        if len(stops) == 1 and direct:
            tree = self._direct(file, site, direct[0], no_grad)
        else:
            tree = self._through_variable(file, site, stops, no_grad)
        if import_needed:
            tree = with_import(tree, import_needed)
        return make_fix(
            file.text,
            tree,
            Applicability.SAFE,
            f"Run `self.{site.attr}(...)` under `torch.no_grad()` and drop the stop-gradient",
        )

    @staticmethod
    def _replacement(stop: StopPoint) -> cst.BaseExpression:
        if stop.kind in _DROPPED and isinstance(stop.operand, cst.BaseExpression):
            return _keep_parentheses(stop.node, stop.operand)
        if stop.kind is StopKind.HELPER and isinstance(stop.node, cst.BaseExpression):
            return stop.node  # the helper may do more than detach: keep it, under no_grad
        raise FixUnavailable(f"no automatic fix for a {stop.kind.value} stop-gradient here")

    def _direct(self, file: SourceFile, site: CallSite, stop: StopPoint, no_grad: str) -> cst.Module:
        """`z = self.t(x).detach()` or `loss = f(p, self.t(x).detach())`."""
        parents = file.parents
        stmt = statement_in_block(stop.node, parents)
        small = stmt.body[0]
        replacement = self._replacement(stop)
        new_statements: list[cst.BaseStatement]
        if isinstance(small, (cst.Assign, cst.AnnAssign)) and small.value is stop.node:
            new_statements = [under_no_grad([_replaced_in(stmt, stop.node, replacement)], no_grad, stmt)]
        else:
            _ensure_hoistable(stop.node, stmt, parents)
            if calls_before(stmt, stop.node, parents, file.positions):
                raise FixUnavailable("another call runs before the stop-gradient in this statement")
            function = enclosing(stmt, parents, cst.FunctionDef)
            if function is None:
                raise FixUnavailable("the stop-gradient is not inside a function")
            name = fresh_name(function, f"{site.attr}_out")
            hoisted = cst.SimpleStatementLine(
                [cst.Assign([cst.AssignTarget(cst.Name(name))], replacement)]
            )
            rest = _replaced_in(stmt, stop.node, cst.Name(name)).with_changes(leading_lines=())
            new_statements = [under_no_grad([hoisted], no_grad, stmt), rest]
        return replace_nodes(file.module, {stmt: cst.FlattenSentinel(new_statements)}, parents)

    def _through_variable(self, file: SourceFile, site: CallSite, stops: list[StopPoint], no_grad: str) -> cst.Module:
        """`t = self.t(x)` ... `t.detach()` / `t.detach_()` / `with torch.no_grad(): f(t)`."""
        parents = file.parents
        producer = statement_in_block(site.node, parents)
        assign = producer.body[0]
        if not (
            isinstance(assign, cst.Assign)
            and len(assign.targets) == 1
            and isinstance(assign.targets[0].target, cst.Name)
        ):
            raise FixUnavailable("the call's result is not assigned to one variable")
        variable = assign.targets[0].target.value
        function = enclosing(producer, parents, cst.FunctionDef)
        if function is None:
            raise FixUnavailable("the call is not inside a function")
        operands: set[cst.CSTNode] = set()
        for stop in stops:
            operand = stop.operand
            if stop.kind is StopKind.HELPER and isinstance(operand, cst.Call) and len(operand.args) == 1:
                operand = operand.args[0].value  # `stop_gradient(z)`: the helper stays, under no_grad
            if not (isinstance(operand, cst.Name) and operand.value == variable):
                raise FixUnavailable("the stop-gradient is not applied to the variable holding the call")
            if enclosing(stop.node, parents, cst.FunctionDef) is not function:
                raise FixUnavailable("the stop-gradient is in another function")
            operands.add(operand)
        in_place = [s.node for s in stops if s.kind is StopKind.DETACH_]
        _ensure_only_stopped_uses(function, producer, variable, operands, in_place, parents, file.positions)

        replacements: dict[cst.CSTNode, cst.CSTNode | cst.RemovalSentinel] = {
            producer: under_no_grad([producer], no_grad, producer),
        }
        for stop in stops:
            if stop.kind is StopKind.DETACH_:
                # `t.detach_()` has nothing left to do; a block needs at least `pass`.
                stmt = statement_in_block(stop.node, parents)
                alone = len(parents[stmt].body) == 1
                replacements[stmt] = cst.SimpleStatementLine([cst.Pass()]) if alone else cst.RemovalSentinel.REMOVE
            elif stop.kind in _DROPPED:
                replacements[stop.node] = cst.Name(variable)
        return replace_nodes(file.module, replacements, parents)


def _keep_parentheses(node: cst.CSTNode, operand: cst.BaseExpression) -> cst.BaseExpression:
    """`(\n self.vae(x)\n .sum(-1)\n .detach()\n)` -> the operand keeps the parentheses that
    held the whole chain: without them the multi-line chain would not parse."""
    lpar = getattr(node, "lpar", ())
    rpar = getattr(node, "rpar", ())
    if lpar and not operand.lpar:
        return operand.with_changes(lpar=lpar, rpar=rpar)
    return operand


def _replaced_in(stmt: cst.SimpleStatementLine, old: cst.CSTNode, new: cst.CSTNode) -> cst.SimpleStatementLine:
    """`stmt` with the expression `old` (inside it) replaced by `new`."""
    replaced = stmt.deep_replace(old, new)
    if not isinstance(replaced, cst.SimpleStatementLine):
        raise FixUnavailable("the stop-gradient is the whole statement")
    return replaced


def _ensure_hoistable(node: cst.CSTNode, stmt: cst.CSTNode, parents: Parents) -> None:
    """Hoisting changes when (or whether) the expression runs inside these constructs."""
    current = parents.get(node)
    while current is not None and current is not stmt:
        if isinstance(current, (cst.IfExp, cst.BooleanOperation, cst.Lambda, cst.ListComp,
                                cst.SetComp, cst.DictComp, cst.GeneratorExp)):
            raise FixUnavailable("the stop-gradient is inside a conditional, lambda or comprehension")
        current = parents.get(current)


_UNCONDITIONAL = (cst.With, cst.IndentedBlock, cst.SimpleStatementLine)


def statement_of(node: cst.CSTNode, parents: Parents) -> cst.CSTNode | None:
    return enclosing(node, parents, cst.SimpleStatementLine)


def _conditional_between(statement: cst.CSTNode | None, producer: cst.CSTNode, parents: Parents) -> bool:
    """Does `statement` sit inside an if/loop/try that `producer`'s block does not?"""
    current = parents.get(statement) if statement is not None else None
    while current is not None and current is not parents.get(producer):
        if not isinstance(current, _UNCONDITIONAL):
            return True
        current = parents.get(current)
    return current is None


def _ensure_only_stopped_uses(function: cst.CSTNode, producer: cst.SimpleStatementLine, variable: str,
                              operands: set[cst.CSTNode], in_place: list[cst.CSTNode], parents: Parents,
                              positions: Mapping[cst.CSTNode, CodeRange]) -> None:
    """Every later read of `variable` must be one of the stop-gradients being fixed (or a
    shape query), until the variable is unconditionally reassigned or detached in place."""
    start = positions[producer].end
    reads = []
    reassigned_at = None
    for call in in_place:  # `t.detach_()`: from there on `t` holds no gradient anyway
        if _conditional_between(statement_of(call, parents), producer, parents):
            raise FixUnavailable("the variable is detached in place only conditionally")
        where = positions[call].start
        if reassigned_at is None or (where.line, where.column) < reassigned_at:
            reassigned_at = (where.line, where.column)
    assigned = producer.body[0]
    target = assigned.targets[0].target if isinstance(assigned, cst.Assign) else None
    stack = [function]
    while stack:
        node = stack.pop()
        stack.extend(node.children)
        if not isinstance(node, cst.Name) or node.value != variable or node is target:
            continue
        where = positions[node].start
        if (where.line, where.column) <= (start.line, start.column):
            continue
        parent = parents.get(node)
        if isinstance(parent, cst.AssignTarget):
            if _conditional_between(statement_of(node, parents), producer, parents):
                raise FixUnavailable("the variable is reassigned conditionally")
            if reassigned_at is None or (where.line, where.column) < reassigned_at:
                reassigned_at = (where.line, where.column)
            continue
        reads.append((where.line, where.column, node, parent))
    for line, column, node, parent in reads:
        if reassigned_at is not None and (line, column) > reassigned_at:
            continue
        if node in operands:
            continue
        if isinstance(parent, cst.Attribute) and parent.attr.value in {"shape", "dtype", "device", "ndim"}:
            continue
        raise FixUnavailable(f"`{variable}` is also used without a stop-gradient")

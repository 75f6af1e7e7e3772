"""`requires_grad` changed after a `make_private*` call on parameters its optimizer steps
(`requires_grad_changed_after_engine`).

    for p in model.backbone.parameters():
        p.requires_grad = False                          # frozen when make_private hooks the model
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)   # ... but in the optimizer
    model, optimizer, loader = engine.make_private(module=model, optimizer=optimizer, ...)
    for epoch in range(epochs):
        if epoch == 2:
            model.backbone.requires_grad_(True)          # progressive unfreezing: the next step raises
        train(...)

`GradSampleModule` puts hooks only on the layers that have a trainable parameter when it is built. A layer frozen
then and unfrozen later gets gradients but no per-sample gradients, and the DP optimizer (which steps every
parameter it holds that requires grad) raises `ValueError: Per sample gradient is not initialized. Not updated
in backward pass?` at the next step (measured, opacus 1.4.1-1.6.0, hooks and functorch modes). In ghost mode
the opposite breaks: a parameter frozen after `make_private` makes the next step raise `AttributeError:
'Parameter' object has no attribute '_norm_sample'` (1.5.4, 1.6.0). Freezing after the call in hooks mode, and
unfreezing a layer that is not in the optimizer, train (measured).

Everything is read from the engine call's own function:
- the changes: `for p in <X>.parameters(): p.requires_grad = <bool>` and `<X>.requires_grad_(<bool>)` (no
  argument: True), `<X>` a dotted path from the model passed to the engine (before the call) or the model
  it returned (after; `._module.` is skipped). A single parameter's `requires_grad` is not read (its layer
  may keep hooks for its other parameters);
- the optimizer given to the engine, assigned once in that function from `torch.optim.<Name>(<model>.parameters(),
  ...)` (every parameter; a filtered list leaves frozen ones out, and then nothing fails);
- the change after the call runs before a later `<optimizer>.step()`: inside the loop that steps, or before it.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import libcst as cst

from dp_lint.analysis.constants import literal
from dp_lint.analysis.engine_calls import GradSampleMode
from dp_lint.analysis.extra_forwards import is_step
from dp_lint.analysis.training import TrainingSetup, statement_inside
from dp_lint.files.syntax import calls_in, dotted_name

_UNFREEZE_BREAKS = (GradSampleMode.HOOKS, GradSampleMode.FUNCTORCH)


@dataclass(frozen=True)
class RequiresGradChange:
    """A `requires_grad` change after the engine call that makes the next DP step raise."""

    statement: cst.CSTNode  # the `for` loop or the `requires_grad_(...)` statement
    path: str  # the model path whose parameters change, as written: "model.backbone"
    value: bool  # True: unfrozen (hooks/functorch), False: frozen (ghost)
    frozen_before: cst.CSTNode | None  # the freeze before the engine call it undoes (unfreezing)
    frozen_path: str | None  # what that freeze froze, as written: "model.backbone"
    conditional: bool  # under an `if` inside the training loop (runs only when its test holds)
    step: cst.Call  # the optimizer step that follows


@dataclass(frozen=True)
class _Change:
    statement: cst.CSTNode
    path: str  # as written
    relative: tuple[str, ...]  # below the model: ("backbone",); () is the whole model
    value: bool


def requires_grad_changed_after_engine(setup: TrainingSetup) -> list[RequiresGradChange]:
    if not setup.engine.kind.makes_private:
        return []
    mode = setup.grad_sample_mode
    if mode not in _UNFREEZE_BREAKS and mode is not GradSampleMode.GHOST:
        return []
    passed, model, optimizer = setup.argument_name("module"), setup.returned("module"), setup.returned("optimizer")
    if passed is None or "." in passed or model is None or optimizer is None:
        return []
    if not _optimizer_holds_every_parameter(setup, passed):
        return []
    parents = setup.module.file.parents
    # A freeze under a test before the call (`if args.freeze_backbone:`) may not have run: not read.
    before = [c for c in requires_grad_changes(setup.before, {passed}) if not under_test(c.statement, None, parents)]
    after = [c for c in requires_grad_changes(setup.after, {model, passed})]
    found: list[RequiresGradChange] = []
    for change in after:
        step = later_step(change.statement, setup, optimizer)
        if step is None:
            continue
        step_call, conditional = step
        if mode is GradSampleMode.GHOST:
            if change.value is False:
                found.append(RequiresGradChange(change.statement, change.path, False, None, None, conditional,
                                                step_call))
            continue
        if change.value is not True:
            continue
        frozen = _frozen_at_call(before, change.relative)
        if frozen is not None:
            found.append(RequiresGradChange(change.statement, change.path, True, frozen.statement, frozen.path,
                                            conditional, step_call))
    return found


def _optimizer_holds_every_parameter(setup: TrainingSetup, model: str) -> bool:
    name = setup.argument_name("optimizer")
    if name is None or "." in name:
        return False
    values = setup.scope.get(name) or []
    if len(values) != 1 or not isinstance(values[0], cst.Call):
        return False
    construction = values[0]
    qualname = setup.module.resolve_expr(construction.func) or ""
    if not qualname.startswith("torch.optim.") or not construction.args or construction.args[0].keyword is not None:
        return False
    params = construction.args[0].value
    return isinstance(params, cst.Call) and dotted_name(params.func) == f"{model}.parameters" and not params.args


def _frozen_at_call(before: Sequence[_Change], relative: tuple[str, ...]) -> _Change | None:
    """The last freeze before the engine call overlapping `relative`, when no later change before the call
    touches it again."""
    overlapping = [c for c in before if paths_overlap(c.relative, relative)]
    if not overlapping or overlapping[-1].value is not False:
        return None
    return overlapping[-1]


def paths_overlap(a: tuple[str, ...], b: tuple[str, ...]) -> bool:
    """Is one model path below (or equal to) the other? `()` (the whole model) overlaps everything."""
    shorter = min(len(a), len(b))
    return a[:shorter] == b[:shorter]


def requires_grad_changes(statements: Sequence[cst.CSTNode], roots: set[str]) -> Iterator[_Change]:
    for stmt in statements:
        if isinstance(stmt, cst.For):
            change = _parameter_loop(stmt, roots)
            if change is not None:
                yield change
        elif isinstance(stmt, cst.SimpleStatementLine):
            for small in stmt.body:
                if isinstance(small, cst.Expr) and isinstance(small.value, cst.Call):
                    change = _requires_grad_call(stmt, small.value, roots)
                    if change is not None:
                        yield change


def _parameter_loop(loop: cst.For, roots: set[str]) -> _Change | None:
    """`for p in <X>.parameters(): p.requires_grad = <bool>` (the assignment unconditional in the body)."""
    if not isinstance(loop.target, cst.Name) or not isinstance(loop.iter, cst.Call) or loop.iter.args:
        return None
    func = loop.iter.func
    if not isinstance(func, cst.Attribute) or func.attr.value != "parameters":
        return None
    relative = _relative(func.value, roots)
    if relative is None or not isinstance(loop.body, cst.IndentedBlock):
        return None
    for stmt in loop.body.body:
        if not isinstance(stmt, cst.SimpleStatementLine):
            continue
        for small in stmt.body:
            if isinstance(small, cst.Assign) and len(small.targets) == 1:
                target = small.targets[0].target
                value = literal(small.value, None)
                if isinstance(target, cst.Attribute) and target.attr.value == "requires_grad" \
                        and isinstance(target.value, cst.Name) and target.value.value == loop.target.value \
                        and isinstance(value, bool):
                    return _Change(loop, _code(func.value), relative, value)
    return None


def _requires_grad_call(stmt: cst.CSTNode, call: cst.Call, roots: set[str]) -> _Change | None:
    func = call.func
    if not isinstance(func, cst.Attribute) or func.attr.value != "requires_grad_":
        return None
    relative = _relative(func.value, roots)
    if relative is None:
        return None
    if not call.args:
        value: object = True
    elif len(call.args) == 1 and (call.args[0].keyword is None or call.args[0].keyword.value == "requires_grad"):
        value = literal(call.args[0].value, None)
    else:
        return None
    return _Change(stmt, _code(func.value), relative, value) if isinstance(value, bool) else None


def _relative(expr: cst.BaseExpression, roots: set[str]) -> tuple[str, ...] | None:
    """The attribute path below one of `roots` (`model._module.backbone[2]` -> ("backbone", "2")); None
    otherwise (a call or a computed index on the way)."""
    parts: list[str] = []
    while isinstance(expr, (cst.Attribute, cst.Subscript)):
        if isinstance(expr, cst.Attribute):
            parts.append(expr.attr.value)
        else:  # `backbone[2]` of an `nn.Sequential`: an integer index is one step down
            element = expr.slice[0].slice if len(expr.slice) == 1 else None
            if not isinstance(element, cst.Index) or not isinstance(element.value, cst.Integer):
                return None
            parts.append(element.value.value)
        expr = expr.value
    if not isinstance(expr, cst.Name) or expr.value not in roots:
        return None
    parts.reverse()
    if parts and parts[0] == "_module":
        parts = parts[1:]
    return tuple(parts)


def later_step(statement: cst.CSTNode, setup: TrainingSetup, optimizer: str) -> tuple[cst.Call, bool] | None:
    """The optimizer step that runs after `statement`: in a loop holding it, or in a loop after it; with whether
    `statement` is under an `if` inside that loop."""
    after = list(setup.after)
    position = next((i for i, s in enumerate(after) if s is statement), None)
    if position is None:
        return None
    parents = setup.module.file.parents
    for index, stmt in enumerate(after):
        if not isinstance(stmt, (cst.For, cst.While)):
            continue
        steps = [c for c in calls_in(stmt.body) if is_step(c, optimizer)]
        if not steps:
            continue
        if statement_inside(statement, stmt) and statement is not stmt:
            if under_test(stmt, None, parents):
                return None
            return steps[0], under_test(statement, stmt, parents)
        if index > position and not statement_inside(stmt, statement):
            # before the loop: only when it certainly runs (no test around it)
            return (steps[0], False) if not under_test(statement, None, parents) else None
    return None


def under_test(statement: cst.CSTNode, stop: cst.CSTNode | None, parents: dict) -> bool:
    """Is `statement` under an `if`, `try`, or a loop, below `stop` (None: up to its function)?"""
    current = parents.get(statement)
    while current is not None and current is not stop and not isinstance(current, (cst.FunctionDef, cst.Module)):
        if isinstance(current, (cst.If, cst.Try, cst.While, cst.For)):
            return True
        current = parents.get(current)
    return False


def _code(node: cst.CSTNode) -> str:
    return cst.Module([]).code_for_node(node)

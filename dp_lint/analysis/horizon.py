"""More training epochs than `make_private_with_epsilon(epochs=E)` calibrated the noise for
(`privacy_horizon_exceeded`).

    model, optimizer, loader = engine.make_private_with_epsilon(..., target_epsilon=8.0, epochs=cfg.dp_epochs)
    for epoch in range(cfg.epochs):                      # cfg.epochs = 3 > cfg.dp_epochs = 1
        for x, y in loader:
            ...
            optimizer.step()

`make_private_with_epsilon` picks the noise multiplier that spends `target_epsilon` in exactly
`epochs * len(data_loader)` steps; every step after those spends more, so training `N > E` epochs ends
with an ε above the target (measured, opacus 1.6.0: target 5, E = 1, N = 3: `get_epsilon` 7.65 with the
PRV accountant, 7.52 RDP, 9.63 GDP). Opacus raises nothing.

An answer needs every fact from the source:
- the engine call is `make_private_with_epsilon` with `epochs=` resolved to an int (literal, config field,
  argparse default: the project's value analysis), its data loader result bound to a name not rebound;
- a `for ... in range(...)` loop after the call (not around it) whose count resolves, and inside it,
  reached on every round (through `with` blocks only: no `if`, `try`, `while`, nested `for`, short-circuit,
  comprehension or lambda on the way), a training loop over the returned loader (`training_loops_over`:
  it calls `.backward()` or `.step()`), directly, in a method of the trainer it calls as `self.<method>(...)`,
  or in a module-level project function it passes the loader and the model or optimizer to;
- neither loop holds a `break` or `return` (early stopping: how many epochs run is unknown).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import libcst as cst

from dp_lint.analysis.engine_calls import EngineKind
from dp_lint.analysis.index import ModuleInfo, ProjectIndex
from dp_lint.analysis.training import TrainingSetup, class_methods, enclosing_class, statement_inside
from dp_lint.files.syntax import calls_in, dotted_name

# Nodes a training loop may sit in between the epoch loop and itself and still run once per epoch.
_ON_EVERY_ROUND = (cst.IndentedBlock, cst.SimpleStatementLine, cst.With, cst.WithItem, cst.Expr, cst.Assign,
                   cst.AugAssign, cst.AnnAssign, cst.AssignTarget, cst.Call, cst.Arg, cst.Attribute, cst.Name)


@dataclass(frozen=True)
class HorizonExceeded:
    """A training loop that runs more epochs than `make_private_with_epsilon(epochs=...)` was told
    (`privacy_horizon_exceeded`)."""

    loop: cst.For  # the epoch loop: `for epoch in range(...)`
    module: ModuleInfo  # where it is written (`module.file`)
    planned: int  # `epochs=` of the engine call
    epochs: int  # how many rounds the epoch loop runs
    training: cst.For  # the loop over the private data loader it runs every round
    through: str | None  # the method or function holding `training` when not the epoch loop itself


def privacy_horizon_exceeded(setup: TrainingSetup, index: ProjectIndex) -> list[HorizonExceeded]:
    """The epoch loops after a `make_private_with_epsilon` call that run a training loop over its data loader
    more times than its `epochs=`; none where anything of it is unknown (module docstring)."""
    if setup.engine.kind is not EngineKind.MAKE_PRIVATE_WITH_EPSILON:
        return []
    planned = setup.setting("epochs")
    if not isinstance(planned, int) or isinstance(planned, bool) or planned < 1:
        return []
    loader = setup.returned("data_loader")
    if loader is None or ("." not in loader and setup.assigned_after(loader)):
        return []
    found: list[HorizonExceeded] = []
    seen: set[int] = set()
    for epoch, training, through in _epoch_loops(setup, loader, index):
        if id(epoch) in seen or _exits(training) or _exits(epoch):
            continue
        seen.add(id(epoch))
        epochs = _rounds(epoch, setup)
        if epochs is not None and epochs > planned:
            found.append(HorizonExceeded(epoch, setup.module, planned, epochs, training, through))
    return found


def _epoch_loops(setup: TrainingSetup, loader: str, index: ProjectIndex,
                 ) -> Iterator[tuple[cst.For, cst.For, str | None]]:
    """(epoch loop, training loop, through) for each training loop over `loader` run once per round of a loop
    in the engine call's file."""
    parents = setup.module.file.parents
    methods = {m.name.value: m for m in class_methods(enclosing_class(setup))}
    for training in setup.training_loops_over(loader):
        epoch = _enclosing_round_loop(training, parents)
        if epoch is not None:
            if _after_engine(epoch, setup):
                yield epoch, training, None
            continue
        # A trainer method holding the loop, called as `self.<method>(...)` inside an epoch loop.
        function = _unconditional_in(training, parents)
        if function is None or function is setup.function or methods.get(function.name.value) is not function:
            continue
        for caller in (*methods.values(), *([] if setup.function is None else [setup.function])):
            for call in calls_in(caller.body):
                if dotted_name(call.func) != f"self.{function.name.value}":
                    continue
                epoch = _enclosing_round_loop(call, parents)  # a call in a nested def reaches no epoch loop
                if epoch is not None and _after_engine(epoch, setup):
                    yield epoch, training, f"self.{function.name.value}"
    for arg, helper, training in setup.helper_training_loops(loader, index):
        if _unconditional_in(training, helper.module.file.parents) is not helper.node:
            continue
        epoch = _enclosing_round_loop(arg, parents)
        if epoch is not None and _after_engine(epoch, setup):
            yield epoch, training, helper.name


def _enclosing_round_loop(node: cst.CSTNode, parents: dict) -> cst.For | None:
    """The `for ... in range(...)` loop that runs `node` once per round, reached through `_ON_EVERY_ROUND` nodes
    only; None otherwise."""
    current = parents.get(node)
    while isinstance(current, _ON_EVERY_ROUND):
        current = parents.get(current)
    if isinstance(current, cst.For) and _is_range(current.iter):
        return current
    return None


def _unconditional_in(loop: cst.For, parents: dict) -> cst.FunctionDef | None:
    """The function whose every call runs `loop` (reached through `_ON_EVERY_ROUND` nodes only)."""
    current = parents.get(loop)
    while isinstance(current, _ON_EVERY_ROUND):
        current = parents.get(current)
    return current if isinstance(current, cst.FunctionDef) else None


def _after_engine(epoch: cst.For, setup: TrainingSetup) -> bool:
    """The epoch loop does not hold the engine call (a new budget each round is not this question)."""
    return not statement_inside(setup.statement, epoch)


def _is_range(expr: cst.BaseExpression) -> bool:
    return isinstance(expr, cst.Call) and dotted_name(expr.func) == "range" and 1 <= len(expr.args) <= 3 \
        and all(a.keyword is None and not a.star for a in expr.args)


def _rounds(loop: cst.For, setup: TrainingSetup) -> int | None:
    """How many rounds `for ... in range(...)` runs, when every bound resolves to an int."""
    if setup.values is None:
        return None
    assert isinstance(loop.iter, cst.Call)
    evaluator = setup.values.at(setup.module, loop)
    bounds = [evaluator.evaluate(a.value) for a in loop.iter.args]
    if not all(isinstance(b, int) and not isinstance(b, bool) for b in bounds):
        return None
    numbers = [int(b) for b in bounds]  # type: ignore[call-overload]
    if len(numbers) == 3 and numbers[2] == 0:
        return None
    return len(range(*numbers))


def _exits(loop: cst.For) -> bool:
    """Does the loop hold a `break` of its own or a `return` (early stopping)?"""
    stack: list[tuple[cst.CSTNode, bool]] = [(child, False) for child in loop.body.children]
    while stack:
        node, nested = stack.pop()
        if isinstance(node, cst.Return) or (isinstance(node, cst.Break) and not nested):
            return True
        if isinstance(node, (cst.FunctionDef, cst.ClassDef, cst.Lambda)):
            continue
        inner = nested or isinstance(node, (cst.For, cst.While))
        stack.extend((child, inner) for child in node.children)
    return False


"""Several `.backward()` of the private model per `step()` under Poisson sampling (`several_backward_per_step`).

    model, optimizer, loader = engine.make_private(module=model, ...)      # poisson_sampling=True (default)
    for step, (x, y) in enumerate(loader):
        loss = criterion(model(x), y) / args.gradient_accumulation_steps
        loss.backward()                                                    # <- raises at the 2nd batch
        if (step + 1) % args.gradient_accumulation_steps == 0:
            optimizer.step()
            optimizer.zero_grad()

With Poisson sampling `make_private*` forbids gradient accumulation on the model it wraps: a backward
that finds a parameter's `grad_sample` of an earlier backward still there (nothing but `zero_grad()` of
the optimizer or the model clears it; `step()` does not) raises `ValueError: Poisson sampling is not
compatible with grad accumulation` (measured, opacus 1.4.1-1.6.0, hooks and functorch modes).

The answer comes from one training loop (the innermost loop holding the private optimizer's `step()`,
in the code `extra_forwards.training_places` follows) whose rounds the source shows completely:
- the `.backward()` calls of values computed from the private model (`loss = criterion(model(x), y)`;
  a call receiving the model; a method of the trainer reading `self.<model>`), each in the loop's own
  block (or a `with`/`try` body);
- the `<optimizer>.step()` and the `zero_grad()` calls of the private optimizer or model, unconditional
  or under one periodic test: `<counter> % K == R` (also `not <counter> % K`, and either of those `or`
  a comparison: `... or step == len(loader) - 1`), `<counter>` the loop's target or a name the loop
  increments, `K` resolved by the project's value analysis (argparse defaults, config fields, trainer
  attributes); K == 1 is always true.
The rounds are simulated as "test true, false, true": a backward that runs while an earlier one's
per-sample gradients are not cleared is the crash. Any other shape gives no answer: an unknown K or test,
a `.backward()` under an `if`, in a nested loop or in a helper dp-lint follows, a helper or unknown
function given the model or the optimizer that may step, clear or differentiate, a `continue`,
`requires_grad` toggled in the loop (a backward between `<model>.disable_hooks()` and `enable_hooks()` stores
nothing and does not count), `BatchMemoryManager` in sight, `poisson_sampling` other than True,
a `grad_sample_mode` other than hooks or functorch (ghost mode accumulates without this check), or an
engine other than `make_private*` (a `GradSampleModule` with a `DPOptimizer` built by hand allows
accumulation).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import libcst as cst

from dp_lint.analysis.engine_calls import GradSampleMode
from dp_lint.analysis.extra_forwards import (
    TrainingPlace,
    grad_enabled_at,
    is_backward,
    is_step,
    mode_in_loop,
    own_calls,
    training_places,
)
from dp_lint.analysis.index import ModuleInfo, ProjectIndex
from dp_lint.analysis.training import TrainingSetup, statement_inside
from dp_lint.analysis.values import UNKNOWN, Unknown
from dp_lint.files.syntax import calls_in, dotted_name, enclosing, target_names, walk_statements

# grad_sample_mode values whose GradSampleModule raises on accumulation under Poisson sampling
# (measured, opacus 1.4.1-1.6.0); ghost mode's module has no such check.
_CHECKED_MODES = (GradSampleMode.HOOKS, GradSampleMode.FUNCTORCH)

_BATCH_MEMORY_MANAGER = "BatchMemoryManager"

# Methods of the GradSampleModule that switch its hooks: a backward with hooks off stores no per-sample gradients.
_HOOK_SWITCHES = {"disable_hooks": "hooks-off", "enable_hooks": "hooks-on"}

# Functions that may take the model or the optimizer without stepping, clearing or differentiating.
_HARMLESS = frozenset({"print", "len", "repr", "str", "isinstance", "type", "id"})


@dataclass(frozen=True)
class SeveralBackward:
    """A `.backward()` through the private model that runs while the per-sample gradients of an earlier
    one are still there, under Poisson sampling (`several_backward_per_step`)."""

    backward: cst.Call  # the `.backward()` call that raises
    first: cst.Call  # the earlier `.backward()` whose per-sample gradients are left (the same call: accumulation)
    module: ModuleInfo  # where both are written (`module.file`)
    model: str  # the private model's name there
    optimizer: str  # the private optimizer's name there
    through: str | None  # the method or function they are written in when not the engine call's: "self.fit"
    loop: cst.For | cst.While  # the training loop
    # "accumulation": one backward per round, the step and zero_grad every `steps` rounds;
    # "several": two backward calls in one round before a zero_grad.
    kind: str
    steps: int | None  # K of the periodic test (accumulation), else None
    condition: cst.BaseExpression | None  # the periodic `if` test the step runs under, None when unconditional


def several_backward_per_step(setup: TrainingSetup, index: ProjectIndex) -> list[SeveralBackward]:
    """The backward calls through the model a `make_private*` call returns (with Poisson sampling, in
    hooks or functorch mode) that run while an earlier backward's per-sample gradients are not cleared
    by a `zero_grad()`; none where anything of it is unknown."""
    if not setup.engine.kind.makes_private or setup.grad_sample_mode not in _CHECKED_MODES \
            or setup.poisson_sampling is not True:
        return []
    found: list[SeveralBackward] = []
    for place, loop in _step_loops(setup, index):
        result = _loop(loop, place, setup)
        if result is not None:
            found.append(result)
    return found


@dataclass(frozen=True)
class ModelZeroGradOnly:
    """A training loop that steps the DP optimizer every round but clears gradients only with the model's
    `zero_grad()`, never the optimizer's (`model_zero_grad_only`): the second step raises."""

    zero_grad: cst.Call  # the model's `zero_grad()` call (the first, where the round has several)
    step: cst.Call  # the optimizer's `step()` that raises in the second round
    module: ModuleInfo  # where both are written (`module.file`)
    model: str  # the private model's name there
    optimizer: str  # the private optimizer's name there
    through: str | None  # the method or function they are written in when not the engine call's: "self.fit"
    loop: cst.For | cst.While  # the training loop


def model_zero_grad_only(setup: TrainingSetup, index: ProjectIndex) -> list[ModelZeroGradOnly]:
    """The training loops of a `make_private*` call (hooks or functorch mode) whose every round runs one
    backward through the private model and one `<optimizer>.step()`, and clears gradients only with
    `<model>.zero_grad()`. The module's `zero_grad()` clears `p.grad_sample` but not the `p.summed_grad`
    the DP optimizer's step left marked as processed (only the optimizer's `zero_grad()` does), so the
    second step raises `ValueError: Gradients haven't been cleared since the last optimizer step`
    (measured, opacus 1.6.0, with and without Poisson sampling; ghost mode does not raise). None where a
    round is not all in sight (the rules of `several_backward_per_step`), where anything runs under a
    test, or where `BatchMemoryManager` (which skips steps) is used."""
    if not setup.engine.kind.makes_private or setup.grad_sample_mode not in _CHECKED_MODES:
        return []
    found: list[ModelZeroGradOnly] = []
    for place, loop in _step_loops(setup, index):
        state = _round(loop, place, setup)
        if state is None or any(e.guarded for e in state.events):
            continue
        kinds = [e.kind for e in state.events]
        clears = [e for e in state.events if e.kind == "clear"]
        steps = [e for e in state.events if e.kind == "step"]
        if kinds.count("backward") != 1 or len(steps) != 1 or not clears \
                or any(e.of == "optimizer" for e in clears) or any(k.startswith("hooks") for k in kinds):
            continue
        found.append(ModelZeroGradOnly(clears[0].call, steps[0].call, place.module, place.model, place.optimizer,
                                       place.through, loop))
    return found


@dataclass(frozen=True)
class OptimizerClearedLoop:
    """A training loop whose every round runs one backward through the private model, one `<optimizer>.step()`
    and clears gradients only with the private optimizer's `zero_grad()` (`optimizer_cleared_loops`)."""

    loop: cst.For | cst.While
    backward: cst.Call
    step: cst.Call
    module: ModuleInfo  # where the loop is written
    through: str | None  # the method or function it is written in when not the engine call's: "self.fit"


def optimizer_cleared_loops(setup: TrainingSetup, index: ProjectIndex) -> list[OptimizerClearedLoop]:
    """The training loops of a `make_private*` call whose rounds are all in sight (the rules of
    `several_backward_per_step`), run nothing under a test, switch no hooks, and clear only through the DP
    optimizer's `zero_grad()`, which clears only the parameters it holds: the model's own `zero_grad()`
    clears every parameter's per-sample gradient, so a loop calling it gives no answer."""
    if not setup.engine.kind.makes_private:
        return []
    found: list[OptimizerClearedLoop] = []
    for place, loop in _step_loops(setup, index):
        state = _round(loop, place, setup)
        if state is None or any(e.guarded for e in state.events):
            continue
        backward = [e for e in state.events if e.kind == "backward"]
        steps = [e for e in state.events if e.kind == "step"]
        clears = [e for e in state.events if e.kind == "clear"]
        if len(backward) != 1 or len(steps) != 1 or any(e.kind.startswith("hooks") for e in state.events) \
                or any(e.of != "optimizer" for e in clears):
            continue
        found.append(OptimizerClearedLoop(loop, backward[0].call, steps[0].call, place.module, place.through))
    return found


def ghost_accumulation(setup: TrainingSetup, index: ProjectIndex) -> list[SeveralBackward]:
    """Manual gradient accumulation (one backward per round, the step every K >= 2 rounds, read as in
    `several_backward_per_step`) of a model made private in ghost mode, with or without Poisson sampling.
    Ghost mode accumulates without an error, but its optimizer reports one iteration per step, so the
    accountant counts each step at the sample rate of one batch: the ε reported is that of K times fewer
    samples per step (measured, opacus 1.5.4 and 1.6.0: 8 batches accumulated by 2, `[(σ, 0.125, 4)]` where
    hooks mode without Poisson sampling records `[(σ, 0.25, 4)]`; ε 3.17 against 4.87)."""
    if not setup.engine.kind.makes_private or not setup.is_ghost:
        return []
    found: list[SeveralBackward] = []
    for place, loop in _step_loops(setup, index):
        result = _loop(loop, place, setup)
        if result is not None and result.kind == "accumulation" and result.steps is not None and result.steps >= 2:
            found.append(result)
    return found


@dataclass(frozen=True)
class GhostSecondForward:
    """A training loop of a ghost-mode model whose every round calls the private model twice (or more) in
    training mode with grad enabled before its one backward (`ghost_forwards_per_backward`)."""

    first: cst.Call  # the first `model(...)` of the round
    second: cst.Call  # the one that raises
    backward: cst.Call
    module: ModuleInfo  # where the loop is written
    model: str  # the private model's name there
    through: str | None  # the method or function it is written in when not the engine call's: "self.fit"
    loop: cst.For | cst.While


def ghost_forwards_per_backward(setup: TrainingSetup, index: ProjectIndex) -> list[GhostSecondForward]:
    """The training loops of a model made private in ghost mode whose rounds are all in sight (the rules of
    `several_backward_per_step`), run nothing under a test, switch no hooks, run one backward and one step, and
    call the private model at least twice before the backward, each call running once per round, in training
    mode, with grad enabled (`loss = criterion(model(view_a), y) + criterion(model(view_b), y)`). Ghost clipping
    counts the forward passes each trainable `nn.Linear`/`nn.Embedding` parameter serves until the backward, and
    the second one raises `NotImplementedError: Parameter tying is not supported with Ghost Clipping` (measured,
    opacus 1.6.0; hooks and functorch modes sum the two passes' per-sample gradients and train). Whether the model
    holds such a layer is the caller's question."""
    if not setup.engine.kind.makes_private or not setup.is_ghost:
        return []
    found: list[GhostSecondForward] = []
    for place, loop in _step_loops(setup, index):
        state = _round(loop, place, setup)
        if state is None or any(e.guarded for e in state.events) or any(e.kind.startswith("hooks") for e in state.events):
            continue
        backward = [e.call for e in state.events if e.kind == "backward"]
        steps = [e for e in state.events if e.kind == "step"]
        if len(backward) != 1 or len(steps) != 1:
            continue
        end = _position(backward[0], place, end=True)  # a forward inside the backward's expression runs first
        parents = place.module.file.parents
        before = [c for c in state.forwards if _position(c, place) < end and grad_enabled_at(c, place) is True
                  and (statement := enclosing(c, parents, cst.SimpleStatementLine)) is not None
                  and mode_in_loop(statement, loop, place) == "train"]
        if len(before) >= 2:
            found.append(GhostSecondForward(before[0], before[1], backward[0], place.module, place.model,
                                            place.through, loop))
    return found


def _runs_once(call: cst.Call, top: cst.CSTNode, place: TrainingPlace) -> bool:
    """Is `call` evaluated exactly once whenever `top` (the node `_calls` reads) runs: not in a lambda, a
    comprehension, a conditional expression or the right side of `and`/`or`?"""
    parents = place.module.file.parents
    node: cst.CSTNode = call
    while node is not top:
        parent = parents.get(node)
        if parent is None:
            return False
        if isinstance(parent, (cst.Lambda, cst.ListComp, cst.SetComp, cst.DictComp, cst.GeneratorExp, cst.IfExp)):
            return False
        if isinstance(parent, cst.BooleanOperation) and node is parent.right:
            return False
        node = parent
    return True


def _step_loops(setup: TrainingSetup, index: ProjectIndex) -> Iterator[tuple[TrainingPlace, cst.For | cst.While]]:
    """The innermost loops stepping the optimizer a `make_private*` call returned, in each training place of
    it (`training_places`) that uses no `BatchMemoryManager` (which skips steps)."""
    model, optimizer = setup.returned("module"), setup.returned("optimizer")
    if model is None or optimizer is None:
        return
    for place in training_places(setup, model, optimizer, index):
        if _uses_batch_memory_manager(place):
            continue
        loops = [s for s in place.statements if isinstance(s, (cst.For, cst.While)) and _steps(s, optimizer)]
        yield from ((place, lp) for lp in loops if not any(o is not lp and statement_inside(o, lp) for o in loops))


def _steps(loop: cst.For | cst.While, optimizer: str) -> bool:
    return any(is_step(c, optimizer) for c in calls_in(loop.body))


def _uses_batch_memory_manager(place: TrainingPlace) -> bool:
    for stmt in place.statements:
        for call in own_calls(stmt):
            name = dotted_name(call.func)
            if name is not None and name.rsplit(".", 1)[-1] == _BATCH_MEMORY_MANAGER:
                return True
    return False


# -- the events of one round ------------------------------------------------------------


@dataclass(frozen=True)
class _Event:
    kind: str  # "backward", "step", "clear", "hooks-off", "hooks-on"
    call: cst.Call
    guarded: bool  # under the loop's periodic test (true branch)
    # for "clear": whose `zero_grad()` it is, "model" or "optimizer" (both clear the per-sample gradients;
    # only the optimizer's clears what its step summed)
    of: str | None = None


class _GiveUp(Exception):
    pass


@dataclass
class _Round:
    place: TrainingPlace
    setup: TrainingSetup
    loop: cst.For | cst.While
    tainted: set[str]
    counters: set[str]
    events: list[_Event]
    test: cst.BaseExpression | None = None  # the periodic test
    steps: int | None = None
    # `<model>(...)` calls that run once in every round (not under the periodic test, a lambda, a
    # comprehension or a conditional expression), in order
    forwards: list[cst.Call] = field(default_factory=list)


def _loop(loop: cst.For | cst.While, place: TrainingPlace, setup: TrainingSetup) -> SeveralBackward | None:
    state = _round(loop, place, setup)
    if state is None:
        return None
    events = state.events
    if not any(e.kind == "clear" for e in events) or not any(e.kind == "backward" for e in events):
        return None
    crash = _simulate(events)
    if crash is None:
        return None
    first, backward = crash
    kind = "accumulation" if first is backward else "several"
    if kind == "accumulation" and state.steps is None:
        return None
    return SeveralBackward(backward, first, place.module, place.model, place.optimizer, place.through, loop, kind,
                           state.steps if kind == "accumulation" else None, state.test)


def _round(loop: cst.For | cst.While, place: TrainingPlace, setup: TrainingSetup) -> _Round | None:
    """The events of one round of `loop`, in order; None where the loop's rounds are not all in sight (a
    `continue`, `requires_grad` toggled, an unknown helper given the model or optimizer, a `break` or
    `return` before the last event, a nested loop or an unknown test around an event)."""
    body = loop.body.body if isinstance(loop.body, cst.IndentedBlock) else []
    statements = list(walk_statements(body))
    if any(isinstance(n, cst.Continue) for s in statements for n in _walk(s)):
        return None
    if any(_mentions_requires_grad(s) for s in statements):
        return None
    counters = set(target_names(loop.target)) if isinstance(loop, cst.For) else set()
    counters |= {s.target.value for s in _smalls(statements)
                 if isinstance(s, cst.AugAssign) and isinstance(s.target, cst.Name)
                 and isinstance(s.operator, cst.AddAssign)}
    state = _Round(place, setup, loop, _taint(statements, place), counters, [])
    try:
        _collect(body, False, state)
    except _GiveUp:
        return None
    if not state.events:
        return None
    last = max(_row(e.call, place) for e in state.events)
    if any(isinstance(n, (cst.Break, cst.Return)) and _row(n, place) < last for s in statements for n in _walk(s)):
        return None
    return state


def _simulate(events: Sequence[_Event]) -> tuple[cst.Call, cst.Call] | None:
    """Run the rounds "test true, false, true" from cleared gradients: the first backward that finds an
    earlier one's per-sample gradients, with that earlier backward."""
    pending: cst.Call | None = None
    hooks = True
    for outcome in (True, False, True):
        for event in events:
            if event.guarded and not outcome:
                continue
            if event.kind == "clear":
                pending = None
            elif event.kind in ("hooks-off", "hooks-on"):
                hooks = event.kind == "hooks-on"
            elif event.kind == "backward" and hooks:
                if pending is not None:
                    return pending, event.call
                pending = event.call
    return None


def _collect(block: Sequence[cst.BaseStatement], guarded: bool, state: _Round) -> None:
    for stmt in block:
        if isinstance(stmt, cst.SimpleStatementLine):
            _calls(stmt, guarded, state)
        elif isinstance(stmt, cst.If):
            _if(stmt, guarded, state)
        elif isinstance(stmt, cst.With):
            for item in stmt.items:
                _calls(item.item, guarded, state)
            _collect(_block(stmt.body), guarded, state)
        elif isinstance(stmt, cst.Try):
            _collect(_block(stmt.body), guarded, state)
            for other in [*stmt.handlers, stmt.orelse, stmt.finalbody]:
                if other is not None and _has_events(other, state):
                    raise _GiveUp
        elif isinstance(stmt, (cst.FunctionDef, cst.ClassDef)):
            continue
        elif _has_events(stmt, state):
            raise _GiveUp  # a nested loop, a match: how often its events run is unknown


def _if(stmt: cst.If, guarded: bool, state: _Round) -> None:
    _calls(stmt.test, guarded, state)
    inner = [stmt.body, *([stmt.orelse] if stmt.orelse is not None else [])]
    if not any(_has_events(part, state) for part in inner):
        return
    if guarded or stmt.orelse is not None:
        raise _GiveUp  # nested tests, an `else`/`elif` with events
    periodic = _periodic(stmt.test, state)
    if periodic is UNKNOWN:
        raise _GiveUp
    steps, always = periodic
    if not always:
        if state.test is not None and _code(state.test) != _code(stmt.test):
            raise _GiveUp  # two different periodic tests
        state.test, state.steps = stmt.test, steps
    _collect(_block(stmt.body), not always, state)


def _calls(node: cst.CSTNode, guarded: bool, state: _Round) -> None:
    place = state.place
    names = {place.model, place.optimizer}
    for call in sorted(calls_in(node), key=lambda c: _position(c, place)):
        func = call.func
        receiver = dotted_name(func.value) if isinstance(func, cst.Attribute) else None
        if is_step(call, place.optimizer):
            state.events.append(_Event("step", call, guarded))
        elif isinstance(func, cst.Attribute) and func.attr.value == "zero_grad" and receiver in names:
            state.events.append(_Event("clear", call, guarded, "optimizer" if receiver == place.optimizer else "model"))
        elif isinstance(func, cst.Attribute) and func.attr.value in _HOOK_SWITCHES and receiver == place.model:
            if guarded:
                raise _GiveUp
            state.events.append(_Event(_HOOK_SWITCHES[func.attr.value], call, guarded))
        elif is_backward(call):
            if isinstance(func, cst.Attribute) and _reads(func.value, state.tainted | {place.model}, place):
                if guarded:
                    raise _GiveUp
                state.events.append(_Event("backward", call, guarded))
        elif receiver in names:
            continue  # `model(x)`'s methods, `optimizer.param_groups`: no backward, step or clear
        elif dotted_name(func) == place.model:
            if not guarded and _runs_once(call, node, place):
                state.forwards.append(call)
        elif _may_train(call, state):
            raise _GiveUp


def _may_train(call: cst.Call, state: _Round) -> bool:
    """Does a call hand the model or the optimizer to code that may step, clear or differentiate it?"""
    place = state.place
    func = call.func
    if isinstance(func, cst.Attribute) and dotted_name(func.value) == "self" and func.attr.value in place.methods:
        method = place.methods[func.attr.value]
        return any(is_backward(c) or _is_training_call(c) for c in calls_in(method.body))
    handed = {place.model, place.optimizer}
    if place.model.startswith("self.") or place.optimizer.startswith("self."):
        handed.add("self")  # a callback given the trainer reaches `trainer.optimizer` too
    passed = [a for a in call.args if dotted_name(a.value) in handed]
    if not passed:
        return False
    name = dotted_name(func)
    if name in _HARMLESS:
        return False
    qualname = place.module.resolve_expr(func) if name is not None else None
    helper = place.index.lookup_function(qualname) if qualname else None
    if helper is None:
        return True
    return any(is_backward(c) or _is_training_call(c) for c in calls_in(helper.node.body))


def _is_training_call(call: cst.Call) -> bool:
    return isinstance(call.func, cst.Attribute) and call.func.attr.value in ("step", "zero_grad")


# -- the periodic test ------------------------------------------------------------------


def _periodic(test: cst.BaseExpression, state: _Round) -> tuple[int, bool] | Unknown:
    """(K, always) for `<counter> % K == R` and the shapes the module docstring lists; always is True
    when the test is always true (K == 1 and R == 0); UNKNOWN for anything else."""
    if isinstance(test, cst.BooleanOperation) and isinstance(test.operator, cst.Or):
        for side, other in ((test.left, test.right), (test.right, test.left)):
            found = _periodic(side, state)
            if found is not UNKNOWN and isinstance(other, cst.Comparison):
                return found
        return UNKNOWN
    if isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
        return _modulo(test.expression, cst.Integer("0"), state)
    if isinstance(test, cst.Comparison) and len(test.comparisons) == 1 \
            and isinstance(test.comparisons[0].operator, cst.Equal):
        left, right = test.left, test.comparisons[0].comparator
        found = _modulo(left, right, state)
        return found if found is not UNKNOWN else _modulo(right, left, state)
    return UNKNOWN


def _modulo(expr: cst.BaseExpression, rest: cst.BaseExpression, state: _Round) -> tuple[int, bool] | Unknown:
    if not isinstance(expr, cst.BinaryOperation) or not isinstance(expr.operator, cst.Modulo):
        return UNKNOWN
    if not _reads_names(expr.left, state.counters):
        return UNKNOWN
    values = state.setup.values
    if values is None:
        return UNKNOWN
    evaluator = values.at(state.place.module, expr)
    steps = evaluator.evaluate(expr.right)
    if not isinstance(steps, int) or isinstance(steps, bool) or steps < 1:
        return UNKNOWN
    if steps >= 2:
        return steps, False
    remainder = evaluator.evaluate(rest)
    if not isinstance(remainder, int) or isinstance(remainder, bool):
        return UNKNOWN
    return (1, True) if remainder == 0 else UNKNOWN


# -- values computed from the model -----------------------------------------------------


def _taint(statements: Sequence[cst.CSTNode], place: TrainingPlace) -> set[str]:
    """The plain names the loop binds to values computed from the private model (fixpoint)."""
    tainted: set[str] = set()
    changed = True
    while changed:
        changed = False
        for small in _smalls(statements):
            value = getattr(small, "value", None)
            if not isinstance(small, (cst.Assign, cst.AugAssign, cst.AnnAssign)) or not isinstance(value, cst.BaseExpression):
                continue
            if not _reads(value, tainted | {place.model}, place):
                continue
            targets = [t.target for t in small.targets] if isinstance(small, cst.Assign) else [small.target]
            for target in targets:
                for name in target_names(target):
                    if name not in tainted:
                        tainted.add(name)
                        changed = True
    return tainted


def _reads(node: cst.CSTNode, names: set[str], place: TrainingPlace) -> bool:
    """Does `node` read one of the dotted `names`, or call a method of the trainer that reads the model?"""
    for current in _walk(node):
        if isinstance(current, (cst.Name, cst.Attribute)) and dotted_name(current) in names:
            return True
        if isinstance(current, cst.Call) and isinstance(current.func, cst.Attribute) \
                and dotted_name(current.func.value) == "self" and current.func.attr.value in place.methods \
                and place.model.startswith("self."):
            method = place.methods[current.func.attr.value]
            if any(dotted_name(n) == place.model for n in _walk(method.body) if isinstance(n, cst.Attribute)):
                return True
    return False


def _reads_names(node: cst.CSTNode, names: set[str]) -> bool:
    return any(isinstance(n, cst.Name) and n.value in names for n in _walk(node))


def _mentions_requires_grad(stmt: cst.CSTNode) -> bool:
    if not isinstance(stmt, cst.SimpleStatementLine):
        return False
    return any(isinstance(n, cst.Attribute) and n.attr.value in ("requires_grad", "requires_grad_")
               for n in _walk(stmt))


# -- small helpers ----------------------------------------------------------------------


def _has_events(node: cst.CSTNode, state: _Round) -> bool:
    place = state.place
    for call in calls_in(node):
        func = call.func
        if is_step(call, place.optimizer) or is_backward(call):
            return True
        if isinstance(func, cst.Attribute) and func.attr.value == "zero_grad" \
                and dotted_name(func.value) in (place.model, place.optimizer):
            return True
        if _may_train(call, state):
            return True
    return False


def _smalls(statements: Sequence[cst.CSTNode]) -> Iterator[cst.BaseSmallStatement]:
    for stmt in statements:
        if isinstance(stmt, cst.SimpleStatementLine):
            yield from stmt.body


def _block(suite: cst.BaseSuite) -> Sequence[cst.BaseStatement]:
    return suite.body if isinstance(suite, cst.IndentedBlock) else []


def _walk(node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    """The nodes below `node`, not inside nested defs and lambdas, nor an attribute's name (`x.model`)."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        if isinstance(current, (cst.FunctionDef, cst.ClassDef, cst.Lambda)) and current is not node:
            continue
        if isinstance(current, cst.Attribute):
            stack.append(current.value)
            continue
        stack.extend(current.children)


def _row(node: cst.CSTNode, place: TrainingPlace) -> int:
    return place.module.file.span(node)[0].row


def _position(node: cst.CSTNode, place: TrainingPlace, end: bool = False) -> int:
    """Where `node` starts (or ends) in its file, as one comparable number."""
    at = place.module.file.span(node)[1 if end else 0]
    return at.row * 10_000 + at.column


def _code(node: cst.CSTNode) -> str:
    return cst.Module(body=[]).code_for_node(node)

"""Forwards of the private model that no backward consumes (`unconsumed_forwards`).

    model, optimizer, loader = engine.make_private(module=model, ...)
    for x, y in loader:
        optimizer.zero_grad()
        loss = criterion(model(x), y)
        loss.backward()
        acc = (model(x).argmax(1) == y).float().mean()   # <- recorded, never backward-ed
        optimizer.step()

Opacus' forward hooks record a trainable layer's activations on every call made in training mode
with grad enabled; only a backward that reaches that call's output consumes them. A call whose
result no `.backward()` reaches leaves its activations (and the parameters' forward counters)
behind, and the next `DPOptimizer.step()` finds no `grad_sample`.

A call is reported only when the source shows all of it: the call is `model(...)` of the name
bound to the private model (in the function of the `make_private*` call, a method of the trainer
class holding `self.<model>`, or a module-level project function the model is passed to); it is
the value of an assignment to plain names (or a `print(...)`); grad is enabled there (no enclosing
`torch.no_grad()`/`torch.inference_mode()`/`torch.set_grad_enabled(False)`, no such decorator, no
`set_grad_enabled` call anywhere in the function); the model is in training mode there; the
result, through every assignment, reaches no `.backward()` and goes nowhere dp-lint cannot
follow (a container, an attribute, a call of another object's method, a `return`); and a training
loop (`.backward()` and the private optimizer's `.step()` in its body) holds it or follows it.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import libcst as cst

from dp_lint.analysis.engine_calls import GradSampleMode
from dp_lint.analysis.index import ModuleInfo, ProjectIndex
from dp_lint.analysis.training import (
    TrainingSetup,
    class_methods,
    enclosing_class,
    function_body,
    mode_changes,
    statement_inside,
)
from dp_lint.files.syntax import assignments_in, bind_call, calls_in, dotted_name, walk_statements

# grad_sample_mode values whose hooks record every forward (measured, opacus 1.6.0: hooks and
# functorch raise "Per sample gradient is not initialized", ghost "Parameter tying is not supported").
_RECORDING_MODES = (GradSampleMode.HOOKS, GradSampleMode.FUNCTORCH, GradSampleMode.GHOST)

_GRAD_OFF = frozenset({"torch.no_grad", "torch.inference_mode", "torch.autograd.no_grad",
                       "torch.autograd.grad_mode.no_grad", "torch.autograd.grad_mode.inference_mode"})
_SET_GRAD = frozenset({"torch.set_grad_enabled", "torch.autograd.set_grad_enabled",
                       "torch.autograd.grad_mode.set_grad_enabled"})
# Methods whose result carries no gradient: a tainted value read through them goes nowhere.
_DETACHING = frozenset({"item", "tolist", "detach", "numpy", "argmax", "argmin", "size", "dim"})
# Attributes of a tensor that carry no gradient.
_METADATA = frozenset({"shape", "dtype", "device", "ndim", "requires_grad", "is_cuda"})
_HARMLESS_FUNCTIONS = frozenset({"print", "float", "int", "bool", "len", "str", "repr", "round"})


@dataclass(frozen=True)
class UnconsumedForward:
    """A call of the private model, made in training mode with grad enabled, whose result reaches
    no `.backward()` (`unconsumed_forwards`)."""

    call: cst.Call  # the `model(x)` call
    statement: cst.SimpleStatementLine  # its statement (a fix runs it under `torch.no_grad()`)
    module: ModuleInfo  # where it is written (`module.file`)
    model: str  # the model's name there: "model", "self.model", a helper's parameter
    optimizer: str  # the private optimizer's name there
    through: str | None  # the method or function it is written in when not the engine call's: "self.fit"
    loop: cst.For | cst.While  # the training loop holding it or following it
    # "before-loop": before the training loop; "before-step": in the loop, before the optimizer's step
    # (that step raises); "after-step": in the loop after the step (the next round's step raises).
    where: str
    conditional: bool  # under an `if` (or `try`) inside the loop or function: it may not run


def unconsumed_forwards(setup: TrainingSetup, index: ProjectIndex) -> list[UnconsumedForward]:
    """The forwards of the model a `make_private*` call returns that no backward consumes before
    the next step of the optimizer it returns; none where anything of it is unknown."""
    if not setup.engine.kind.makes_private or setup.grad_sample_mode not in _RECORDING_MODES:
        return []
    model, optimizer = setup.returned("module"), setup.returned("optimizer")
    if model is None or optimizer is None:
        return []
    found: list[UnconsumedForward] = []
    for body in training_places(setup, model, optimizer, index):
        found.extend(_in_body(body))
    return found


@dataclass(frozen=True)
class TrainingPlace:
    """Statements that run in the training after a `make_private*` call, with the names the private model
    and optimizer have there (`training_places`; DPL210 and DPL211 read them)."""

    statements: Sequence[cst.CSTNode]  # flattened, in source order
    function: cst.FunctionDef | None
    module: ModuleInfo
    model: str
    optimizer: str
    through: str | None
    trains_at_start: bool  # the model is known to be in training mode at the first statement
    index: ProjectIndex
    methods: dict[str, cst.FunctionDef]  # the methods of the class around (for `self.evaluate(...)`)


def training_places(setup: TrainingSetup, model: str, optimizer: str, index: ProjectIndex) -> Iterator[TrainingPlace]:
    """The training code of the model and optimizer a `make_private*` call returns (`model`, `optimizer`): the
    statements after the call, the other methods of the trainer class holding `self.<model>` and
    `self.<optimizer>`, and module-level project functions called after it with both; none when either name is
    bound again after the call."""
    local = [n for n in (model, optimizer) if "." not in n]
    if any(setup.assigned_after(n) for n in local):
        return
    # make_private refuses a model in eval mode, so it is in training mode right after the call.
    methods = {m.name.value: m for m in class_methods(enclosing_class(setup))}
    yield TrainingPlace(setup.after, setup.function, setup.module, model, optimizer, None, True, index, methods)
    if model.startswith("self.") and optimizer.startswith("self."):
        for method in methods.values():
            if method is not setup.function and method.name.value != "__init__":
                yield TrainingPlace(list(walk_statements(function_body(method))), method, setup.module, model, optimizer,
                             f"self.{method.name.value}", False, index, methods)
    seen: set[int] = set()
    for call in setup.calls_after():
        name = dotted_name(call.func)
        if name is None or "." in name or not setup.module.binds(name) or any(a.star for a in call.args):
            continue
        qualname = setup.module.resolve_expr(call.func)
        helper = index.lookup_function(qualname) if qualname else None
        if helper is None or helper.node is setup.function or id(helper.node) in seen:
            continue
        seen.add(id(helper.node))
        bound = bind_call(helper.node, call, dotted_name, lambda param: None)
        params = {caller: param for param, caller in bound.items() if caller is not None}
        if model not in params or optimizer not in params:
            continue
        rebound = assignments_in(function_body(helper.node))
        if params[model] in rebound or params[optimizer] in rebound:
            continue
        yield TrainingPlace(list(walk_statements(function_body(helper.node))), helper.node, helper.module, params[model],
                     params[optimizer], name, False, index, {})


def _in_body(place: TrainingPlace) -> Iterator[UnconsumedForward]:
    statements = place.statements
    if place.function is not None and _decorated_grad_off(place.function, place.module):
        return
    if any(_sets_grad_mode(call, place.module) for stmt in statements for call in own_calls(stmt)):
        return  # `torch.set_grad_enabled(...)` as a statement: the grad mode is out of sight
    loops = [s for s in statements if isinstance(s, (cst.For, cst.While)) and trains_with(s, place.optimizer)]
    innermost = [loop for loop in loops if not any(o is not loop and statement_inside(o, loop) for o in loops)]
    if not innermost:
        return
    for index, stmt in enumerate(statements):
        if not isinstance(stmt, cst.SimpleStatementLine) or len(stmt.body) != 1:
            continue
        calls = [c for c in own_calls(stmt) if dotted_name(c.func) == place.model]
        if len(calls) != 1:
            continue
        call = calls[0]
        targets = _result_names(stmt.body[0], call)
        if targets is None or _escapes_in_statement(stmt.body[0], call, place):
            continue
        grad = _grad_enabled(call, place)
        if grad is not True:
            continue
        loop = next((lp for lp in innermost if statement_inside(stmt, lp)), None)
        if loop is None:
            if any(statement_inside(stmt, lp) for lp in loops) or _in_other_loop(stmt, statements):
                continue
            later = [lp for lp in innermost if statements.index(lp) > index]
            if not later:
                continue  # no training follows (an evaluation after the training): nothing fails
            loop, where = later[0], "before-loop"
            if _mode_before(statements[:index], place) != "train":
                continue
        else:
            where_ = _position(stmt, loop, place)
            if where_ is None:
                continue
            where = where_
            if _mode_in_loop(stmt, loop, place, statements[:statements.index(loop)]) != "train":
                continue
        if _consumed(targets, stmt, statements, place):
            continue
        yield UnconsumedForward(call, stmt, place.module, place.model, place.optimizer, place.through, loop, where,
                                _conditional(stmt, loop if where != "before-loop" else place.function, place))


# -- the statement itself ---------------------------------------------------------------


def own_calls(stmt: cst.CSTNode) -> list[cst.Call]:
    """Calls in a simple statement, or in a compound statement's header (not its blocks)."""
    if isinstance(stmt, cst.SimpleStatementLine):
        return list(calls_in(stmt))
    headers: list[cst.CSTNode] = []
    for attr in ("test", "iter", "items", "subject"):
        value = getattr(stmt, attr, None)
        if isinstance(value, cst.CSTNode):
            headers.append(value)
        elif isinstance(value, Sequence):
            headers.extend(v for v in value if isinstance(v, cst.CSTNode))
    return [c for h in headers for c in calls_in(h)]


def _result_names(small: cst.BaseSmallStatement, call: cst.Call) -> set[str] | None:
    """The plain names the statement binds to a value computed from `call` (empty for `print(...)`);
    None for any other shape."""
    if isinstance(small, cst.Expr) and isinstance(small.value, cst.Call) and \
            dotted_name(small.value.func) == "print" and small.value is not call:
        return set()
    if isinstance(small, cst.Assign):
        names: set[str] = set()
        for target in small.targets:
            inner = [e.value for e in target.target.elements] if isinstance(target.target, (cst.Tuple, cst.List)) \
                else [target.target]
            for element in inner:
                if not isinstance(element, cst.Name):
                    return None
                names.add(element.value)
        return names
    if isinstance(small, (cst.AugAssign, cst.AnnAssign)) and isinstance(small.target, cst.Name) and \
            small.value is not None:
        return {small.target.value}
    return None


def _escapes_in_statement(small: cst.BaseSmallStatement, call: cst.Call, place: TrainingPlace) -> bool:
    """Does the statement itself hand the call's value where dp-lint cannot follow it
    (`acc = meter.update(model(x))`), judged as the statements after it are?"""
    forward = "__dp_lint_forward__"
    if isinstance(small, cst.Expr) and isinstance(small.value, cst.Call):  # `print(...)`
        values: list[cst.CSTNode] = [a.value for a in small.value.args]
    else:
        value = getattr(small, "value", None)
        values = [value] if isinstance(value, cst.CSTNode) else []
    return any(_escapes(v.deep_replace(call, cst.Name(forward)) if v is not call else cst.Name(forward),
                        {forward}, place, in_value=True) for v in values)


def _grad_enabled(call: cst.Call, place: TrainingPlace) -> bool | None:
    """False under `torch.no_grad()` (and the like), None under `set_grad_enabled(<not literal>)`."""
    parents = place.module.file.parents
    node: cst.CSTNode | None = parents.get(call)
    while node is not None and node is not place.function:
        if isinstance(node, (cst.Lambda, cst.FunctionDef)):
            return None
        if isinstance(node, cst.With):
            for item in node.items:
                expr = item.item
                func = expr.func if isinstance(expr, cst.Call) else expr
                qualname = place.module.resolve_expr(func) if dotted_name(func) else None
                if qualname in _GRAD_OFF:
                    return False
                if qualname in _SET_GRAD:
                    return None
        node = parents.get(node)
    return True


def grad_enabled_at(call: cst.Call, place: TrainingPlace) -> bool | None:
    """Is grad certainly enabled at `call` (True), certainly off (False), or out of sight (None: a
    `set_grad_enabled` statement or decorator in the function)? The reading `unconsumed_forwards` uses."""
    if place.function is not None and _decorated_grad_off(place.function, place.module):
        return False
    if any(_sets_grad_mode(c, place.module) for stmt in place.statements for c in own_calls(stmt)):
        return None
    return _grad_enabled(call, place)


def mode_in_loop(stmt: cst.CSTNode, loop: cst.For | cst.While, place: TrainingPlace) -> str:
    """The private model's mode ("train", "eval", "unknown") at `stmt`, a statement of `loop`'s body, in every
    round."""
    statements = list(place.statements)
    before = statements[:statements.index(loop)] if loop in statements else []
    return _mode_in_loop(stmt, loop, place, before)


def _decorated_grad_off(function: cst.FunctionDef, module: ModuleInfo) -> bool:
    for decorator in function.decorators:
        expr = decorator.decorator
        func = expr.func if isinstance(expr, cst.Call) else expr
        qualname = module.resolve_expr(func) if dotted_name(func) else None
        if qualname in _GRAD_OFF or qualname in _SET_GRAD:
            return True
    return False


def _sets_grad_mode(call: cst.Call, module: ModuleInfo) -> bool:
    if dotted_name(call.func) is None:
        return False
    qualname = module.resolve_expr(call.func)
    if qualname in _SET_GRAD:
        return not isinstance(module.file.parents.get(call), cst.WithItem)
    return qualname is not None and qualname.rsplit(".", 1)[-1] in ("enable_grad", "no_grad", "inference_mode") \
        and isinstance(module.file.parents.get(call), cst.Expr)  # `torch.no_grad().__enter__()`-like use: unknown


# -- the loop ---------------------------------------------------------------------------


def is_backward(call: cst.Call) -> bool:
    """`<anything>.backward(...)`."""
    return isinstance(call.func, cst.Attribute) and call.func.attr.value == "backward"


def is_step(call: cst.Call, optimizer: str) -> bool:
    """`<optimizer>.step(...)` of the optimizer named `optimizer` (a dotted name)."""
    return isinstance(call.func, cst.Attribute) and call.func.attr.value == "step" and \
        dotted_name(call.func.value) == optimizer


def trains_with(loop: cst.For | cst.While, optimizer: str) -> bool:
    """Does the loop's body call `.backward()` and `<optimizer>.step()`?"""
    calls = list(calls_in(loop.body))
    return any(is_backward(c) for c in calls) and any(is_step(c, optimizer) for c in calls)


def _in_other_loop(stmt: cst.CSTNode, statements: Sequence[cst.CSTNode]) -> bool:
    return any(isinstance(s, (cst.For, cst.While)) and s is not stmt and statement_inside(stmt, s) for s in statements)


def _position(stmt: cst.SimpleStatementLine, loop: cst.For | cst.While, place: TrainingPlace) -> str | None:
    """Where `stmt` is among the loop's backward and step: "before-step", "after-step"; None when the
    loop body has not exactly one backward and one step, both in the loop's own block."""
    body = list(walk_statements(loop.body.body if isinstance(loop.body, cst.IndentedBlock) else []))
    backwards = [s for s in body if isinstance(s, cst.SimpleStatementLine) and any(is_backward(c) for c in calls_in(s))]
    steps = [s for s in body if isinstance(s, cst.SimpleStatementLine)
             and any(is_step(c, place.optimizer) for c in calls_in(s))]
    if len(backwards) != 1 or len(steps) != 1 or any(s is stmt for s in (*backwards, *steps)):
        return None
    row = _row(stmt, place)
    step_row = _row(steps[0], place)
    return "after-step" if row > step_row else "before-step"


def _row(node: cst.CSTNode, place: TrainingPlace) -> int:
    return place.module.file.span(node)[0].row


def _conditional(stmt: cst.CSTNode, outer: cst.CSTNode | None, place: TrainingPlace) -> bool:
    parents = place.module.file.parents
    node = parents.get(stmt)
    while node is not None and node is not outer:
        if isinstance(node, (cst.If, cst.Try, cst.Else, cst.ExceptHandler, cst.Match)):
            return True
        node = parents.get(node)
    return False


# -- the mode ---------------------------------------------------------------------------


def _events(nodes: Sequence[cst.CSTNode], place: TrainingPlace) -> list[str]:
    events: list[str] = []
    for node in nodes:
        if isinstance(node, cst.SimpleStatementLine):
            events.extend(m.mode for m in mode_changes(node, {place.model}, place.module, place.index, place.methods, 0))
    return events


def _mode_before(before: Sequence[cst.CSTNode], place: TrainingPlace) -> str:
    """The model's mode at `stmt` from the statements before it: "train", "eval" or "unknown"."""
    events = _events(before, place)
    if "unknown" in events:
        return "unknown"
    if events:
        return events[-1]
    return "train" if place.trains_at_start else "unknown"


def _mode_in_loop(stmt: cst.CSTNode, loop: cst.For | cst.While, place: TrainingPlace,
                  before_loop: Sequence[cst.CSTNode]) -> str:
    """The mode at `stmt` in every round: the loop's backward runs in training mode (else DPL209's
    failure), so with no mode change in the loop the call is in training mode too."""
    inside = [s for s in walk_statements(loop.body.body if isinstance(loop.body, cst.IndentedBlock) else [])]
    events = _events(inside, place)
    if "unknown" in events:
        return "unknown"
    if "eval" not in events:
        return "train"
    position = inside.index(stmt) if stmt in inside else -1
    before = _events(inside[:position], place)
    after = _events(inside[position + 1:], place)
    if before and before[-1] == "train" and "eval" not in after:
        return "train"
    return "eval" if before and before[-1] == "eval" else "unknown"


# -- where the result goes --------------------------------------------------------------


def _consumed(targets: set[str], stmt: cst.SimpleStatementLine, statements: Sequence[cst.CSTNode],
              place: TrainingPlace) -> bool:
    """Does a value computed from the call reach a `.backward()`, or go where dp-lint cannot follow?"""
    tainted = set(targets)
    changed = True
    while changed:
        changed = False
        for other in statements:
            if other is stmt or not isinstance(other, cst.SimpleStatementLine):
                continue
            for small in other.body:
                value = getattr(small, "value", None)
                if isinstance(small, (cst.Assign, cst.AugAssign, cst.AnnAssign)) and isinstance(value, cst.BaseExpression) \
                        and _reads(value, tainted):
                    names = _result_names(small, cst.Call(func=cst.Name("_")))
                    if names is None:
                        return True  # stored in an attribute, a subscript, a container
                    if not names <= tainted:
                        tainted |= names
                        changed = True
    for other in statements:
        if other is stmt:
            continue
        if isinstance(other, cst.SimpleStatementLine):
            for small in other.body:
                if isinstance(small, (cst.Assign, cst.AugAssign, cst.AnnAssign)):
                    value = small.value
                    if value is not None and _escapes(value, tainted, place, in_value=True):
                        return True
                elif _escapes(small, tainted, place):
                    return True
        elif isinstance(other, (cst.If, cst.While)) and _escapes(other.test, tainted, place):
            return True
        elif isinstance(other, (cst.For, cst.With, cst.Match)) and _reads_header(other, tainted):
            return True
    return False


def _reads(node: cst.CSTNode, names: set[str]) -> bool:
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, cst.Name) and current.value in names:
            return True
        if isinstance(current, cst.Attribute):
            stack.append(current.value)  # `x.attr`: the attribute's name is not a read
            continue
        stack.extend(current.children)
    return False


def _reads_header(stmt: cst.CSTNode, names: set[str]) -> bool:
    return any(_reads(c, names) for c in _own_headers(stmt))


def _own_headers(stmt: cst.CSTNode) -> list[cst.CSTNode]:
    headers: list[cst.CSTNode] = []
    for attr in ("iter", "items", "subject", "target"):
        value = getattr(stmt, attr, None)
        if isinstance(value, cst.CSTNode):
            headers.append(value)
        elif isinstance(value, Sequence):
            headers.extend(v for v in value if isinstance(v, cst.CSTNode))
    return headers


def _escapes(node: cst.CSTNode, names: set[str], place: TrainingPlace, in_value: bool = False) -> bool:
    """Is a tainted name read in `node` in a way that may carry its gradient somewhere: a `.backward()`,
    an argument of a call other than the harmless ones, a `return`/`yield`, a `del`-free statement
    dp-lint does not know? Reads through `.item()`, `.detach()`, `.argmax()` and the like carry none."""
    if not _reads(node, names):
        return False
    if isinstance(node, cst.Expr) and isinstance(node.value, cst.Call) and dotted_name(node.value.func) == "print":
        return False  # `print(...)`: whatever it formats goes nowhere
    if isinstance(node, (cst.Return, cst.Raise, cst.Global, cst.Nonlocal, cst.Del)):
        return True
    for call in calls_in(node):
        func = call.func
        receiver = func.value if isinstance(func, cst.Attribute) else None
        if isinstance(func, cst.Attribute) and func.attr.value in _DETACHING:
            continue  # `acc.item()`: what it returns has no gradient; its own receiver is checked below
        if receiver is not None and _reads(receiver, names) and is_backward(call):
            return True
        arguments = [a.value for a in call.args]
        if not any(_reads_undetached(a, names) for a in arguments):
            continue
        name = dotted_name(func)
        if name in _HARMLESS_FUNCTIONS:
            continue
        if in_value and (isinstance(func, cst.Name) or (place.module.resolve_expr(func) or "").startswith("torch.")):
            continue  # `accuracy(out, y)`, `torch.sum(acc)` in an assigned value: followed through the assignment
        return True
    if any(isinstance(n, (cst.Yield, cst.Await)) for n in _walk(node)):
        return True
    return False


def _reads_undetached(node: cst.CSTNode, names: set[str]) -> bool:
    """Does `node` read a tainted name other than through `.item()`/`.detach()`-like calls or comparisons?"""
    if isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute) and node.func.attr.value in _DETACHING:
        return False
    if isinstance(node, cst.Comparison):
        return False
    if isinstance(node, cst.Name):
        return node.value in names
    if isinstance(node, cst.Attribute):
        return node.attr.value not in _METADATA and _reads_undetached(node.value, names)
    return any(_reads_undetached(child, names) for child in node.children)


def _walk(node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(current.children)


"""One walker over `forward` (and the project code it calls), shared by the analyses that read it.

Gradient flow (`gradient_flow.ForwardFlow`) and verify's input inference
(`verify.inputs`) both interpret `forward` statement by statement. What they share lives
here; what each computes is left to hooks:

- statement dispatch: simple statements (assignments, augmented assignments, returns,
  expression statements), `if`/`elif`/`else` chains, `for`/`while` loops (with their
  `else`), `with` blocks, `try` (body, handlers, `else`, `finally`), `match`, nested
  definitions;
- branches and environments: each alternative runs on `fork(state)` and the results are
  `join`ed back; a loop body runs `loop_passes` times (values carried from one iteration to
  the next) and is joined with the state before the loop (it may run zero times). An
  analysis that follows one path in source order forks to the state itself and joins
  nothing;
- which project code a call runs: `self.method(...)` through the class's MRO,
  `super().method(...)`, a project function (resolved through the module's imports);
  whether a method receives `self`; how a call's arguments bind to the parameters of the
  function it runs (`bind_arguments`, built on `files.syntax.bind_call`); the depth limit
  of inlining (`max_depth`).

The analysis stops early by raising from a hook (input inference stops at the first
consumer it finds); the walker itself never catches.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

import libcst as cst

from dp_lint.analysis.index import ClassInfo, FunctionInfo, ModuleInfo, ProjectIndex
from dp_lint.files.syntax import bind_call, blocks, dotted_name

StateT = TypeVar("StateT")
ValueT = TypeVar("ValueT")

Block = Sequence[cst.BaseStatement]
"""The statements of one block (an empty block for a one-line suite)."""


def body_of(suite: cst.BaseSuite) -> Block:
    """The statements of an indented block; a one-line suite counts as empty."""
    return suite.body if isinstance(suite, cst.IndentedBlock) else []


def function_body(function: FunctionInfo) -> Block:
    """The statements of a function (none for a one-line `def f(x): return x`, which no
    analysis reads)."""
    return body_of(function.node.body)


def if_branches(stmt: cst.If) -> list[Block]:
    """The alternatives of an `if`/`elif`/`else` chain, with an empty one when there is no
    `else` (no branch taken). Only the first test is an expression of the chain here: the
    `elif` tests are not walked."""
    branches: list[Block] = [body_of(stmt.body)]
    orelse: cst.If | cst.Else | None = stmt.orelse
    while orelse is not None:
        branches.append(body_of(orelse.body))
        orelse = orelse.orelse if isinstance(orelse, cst.If) else None
    if not isinstance(stmt.orelse, cst.Else):
        branches.append([])
    return branches


def is_bound_method(function: FunctionInfo) -> bool:
    """Does calling `function` as a method pass the instance as its first parameter?"""
    return "staticmethod" not in [name.rsplit(".", 1)[-1] for name in function.decorator_names()]


def project_function(module: ModuleInfo, func: cst.BaseExpression) -> FunctionInfo | None:
    """The project function a call of `func` (a plain or dotted name, not `self.<x>`) runs."""
    name = dotted_name(func)
    if name is None or name.startswith("self."):
        return None
    qualname = module.resolve_expr(func)
    return module.index.lookup_function(qualname) if qualname else None


def self_method(index: ProjectIndex, cls: ClassInfo, name: str) -> tuple[ClassInfo, FunctionInfo] | None:
    """`self.<name>(...)` in a method of `cls`: the class that defines it, and the method."""
    return index.find_method(cls, name)


def super_method(index: ProjectIndex, cls: ClassInfo, name: str, caller: ClassInfo) -> tuple[ClassInfo, FunctionInfo] | None:
    """`super().<name>(...)` in a method of `caller`, for an instance of `cls`."""
    return index.find_method(cls, name, after=caller)


def is_super_call(receiver: cst.BaseExpression) -> bool:
    """Is `receiver` `super()` or `super(Cls, self)`?"""
    return isinstance(receiver, cst.Call) and dotted_name(receiver.func) == "super"


def bind_arguments(
    function: FunctionInfo,
    call: cst.Call,
    evaluate: Callable[[cst.BaseExpression], ValueT],
    default: Callable[[cst.Param | None], ValueT],
    bound_self: bool,
    rest: Callable[[list[cst.Arg]], ValueT] | None = None,
) -> dict[str, ValueT]:
    """The parameters of `function` bound to `call`'s arguments (see `bind_call`): `evaluate`
    for what the call passes, `default(param)` for what it leaves out, `default(None)` for
    what a `*args`/`**kwargs` in the call may pass. With `rest`, the function's own `*args`
    and `**kwargs` parameters are bound too: to `rest(arguments they may receive)`."""
    bound = bind_call(function.node, call, evaluate, default, skip_self=bound_self)
    if rest is None:
        return bound
    params = function.node.params
    positional = [*params.posonly_params, *params.params][1 if bound_self else 0:]
    if isinstance(params.star_arg, cst.Param):
        plain = [a for a in call.args if a.keyword is None and not a.star]
        starred = [a for a in call.args if a.star == "*"]
        bound[params.star_arg.name.value] = rest(plain[len(positional):] + starred)
    if params.star_kwarg is not None:
        named = set(bound)
        extra = [a for a in call.args if (a.keyword is not None and a.keyword.value not in named) or a.star == "**"]
        bound[params.star_kwarg.name.value] = rest(extra)
    return bound


class ForwardWalker(Generic[StateT]):
    """Walks function bodies statement by statement; subclasses say what each part means.

    `StateT` is the analysis's environment of local names (and whatever else travels with
    it: the frame of the function being interpreted, the grad mode). The hooks below have
    defaults that walk every sub-block and evaluate nothing; `expression` is the one an
    analysis always overrides.
    """

    loop_passes = 1  # how often a loop body is walked (twice: values carried to the next iteration)
    max_depth = 6  # calls are inlined at most this many levels below `forward`

    def too_deep(self, depth: int) -> bool:
        """Would inlining a call made at `depth` (0: `forward` itself) go past `max_depth`?"""
        return depth >= self.max_depth

    # -- what an analysis defines --------------------------------------------------------

    def expression(self, expr: cst.BaseExpression, state: StateT) -> object:
        """Evaluate an expression read for its value (a test, an iterable, a `with` item)."""
        return None

    def fork(self, state: StateT) -> StateT:
        """The state one alternative branch starts from (the state itself: one path)."""
        return state

    def join(self, state: StateT, others: Sequence[StateT]) -> None:
        """Merge the states of branches (or of the state before a loop) into `state`."""

    # -- functions -------------------------------------------------------------------------

    def walk_function(self, function: FunctionInfo, state: StateT) -> None:
        self.walk_block(function_body(function), state)

    def walk_block(self, statements: Block, state: StateT) -> None:
        for stmt in statements:
            self.statement(stmt, state)

    def walk_branches(self, branches: Sequence[Block], state: StateT) -> None:
        """Alternatives: each walked from a fork of `state`, then joined into it."""
        results = []
        for body in branches:
            branch = self.fork(state)
            self.walk_block(body, branch)
            results.append(branch)
        self.join(state, results)

    # -- statements ------------------------------------------------------------------------

    def statement(self, stmt: cst.BaseStatement, state: StateT) -> None:
        if isinstance(stmt, cst.SimpleStatementLine):
            for small in stmt.body:
                self.small_statement(small, state)
        elif isinstance(stmt, cst.If):
            self.if_statement(stmt, state)
        elif isinstance(stmt, cst.For):
            self.for_statement(stmt, state)
        elif isinstance(stmt, cst.While):
            self.while_statement(stmt, state)
        elif isinstance(stmt, cst.With):
            self.with_statement(stmt, state)
        elif isinstance(stmt, cst.Try):
            self.try_statement(stmt, state)
        elif isinstance(stmt, cst.Match):
            self.match_statement(stmt, state)
        elif isinstance(stmt, (cst.FunctionDef, cst.ClassDef)):
            self.definition(stmt, state)
        else:
            self.other_statement(stmt, state)

    def if_statement(self, stmt: cst.If, state: StateT) -> None:
        self.expression(stmt.test, state)
        self.walk_branches(if_branches(stmt), state)

    def for_statement(self, stmt: cst.For, state: StateT) -> None:
        iterated = self.expression(stmt.iter, state)
        self.loop(stmt, state, lambda inner: self.loop_target(stmt, iterated, inner))

    def while_statement(self, stmt: cst.While, state: StateT) -> None:
        self.expression(stmt.test, state)
        self.loop(stmt, state, None)

    def loop(self, stmt: cst.For | cst.While, state: StateT, bind: Callable[[StateT], None] | None) -> None:
        before = self.fork(state)
        for _ in range(self.loop_passes):
            if bind is not None:
                bind(state)
            self.walk_block(body_of(stmt.body), state)
        self.join(state, [before])
        if stmt.orelse is not None:
            self.walk_block(body_of(stmt.orelse.body), state)

    def loop_target(self, stmt: cst.For, iterated: object, state: StateT) -> None:
        """Bind a `for` loop's target to (an element of) the iterated value, once per pass."""

    def with_statement(self, stmt: cst.With, state: StateT) -> None:
        for item in stmt.items:
            self.expression(item.item, state)
        self.walk_block(body_of(stmt.body), state)

    def try_statement(self, stmt: cst.Try, state: StateT) -> None:
        """Body, then the handlers as alternatives (none of them may run), `else`, `finally`."""
        self.walk_block(body_of(stmt.body), state)
        handlers = [body_of(h.body) for h in stmt.handlers]
        if handlers:
            self.walk_branches(handlers + [[]], state)
        if stmt.orelse is not None:
            self.walk_block(body_of(stmt.orelse.body), state)
        if stmt.finalbody is not None:
            self.walk_block(body_of(stmt.finalbody.body), state)

    def match_statement(self, stmt: cst.Match, state: StateT) -> None:
        self.expression(stmt.subject, state)
        self.walk_branches([body_of(c.body) for c in stmt.cases] + [[]], state)

    def definition(self, stmt: cst.FunctionDef | cst.ClassDef, state: StateT) -> None:
        """A nested `def`/`class`: its body is not walked."""

    def other_statement(self, stmt: cst.BaseStatement, state: StateT) -> None:
        """A compound statement without a hook of its own (`try/except*`): its blocks in order."""
        for block in blocks(stmt):
            self.walk_block(block, state)

    # -- simple statements -------------------------------------------------------------------

    def small_statement(self, small: cst.BaseSmallStatement, state: StateT) -> None:
        if isinstance(small, cst.Assign):
            self.assignment([t.target for t in small.targets], small.value, state)
        elif isinstance(small, cst.AnnAssign):
            if small.value is not None:
                self.assignment([small.target], small.value, state)
        elif isinstance(small, cst.AugAssign):
            self.augmented_assignment(small, state)
        elif isinstance(small, cst.Return):
            if small.value is not None:
                self.return_statement(small.value, state)
        elif isinstance(small, cst.Expr):
            self.expression_statement(small.value, state)
        # raise, assert, del, pass, import, global...: nothing flows on

    def assignment(self, targets: Sequence[cst.BaseExpression], value: cst.BaseExpression, state: StateT) -> None:
        self.expression(value, state)

    def augmented_assignment(self, small: cst.AugAssign, state: StateT) -> None:
        self.expression(small.value, state)

    def return_statement(self, value: cst.BaseExpression, state: StateT) -> None:
        self.expression(value, state)

    def expression_statement(self, value: cst.BaseExpression, state: StateT) -> None:
        self.expression(value, state)

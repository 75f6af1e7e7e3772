"""One toolbox for syntax questions about libcst trees, shared by analysis, fixes and verify.

Everything here is a pure function of the tree: no project index, no name resolution
(that is `dp_lint.analysis.index`). Use these instead of writing another copy.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TypeGuard, TypeVar, overload

import libcst as cst

Parents = Mapping[cst.CSTNode, cst.CSTNode]
"""Child -> parent for every node of a tree (see `parents_of`)."""

_T = TypeVar("_T")
_Node = TypeVar("_Node", bound=cst.CSTNode)


def dotted_name(expr: cst.BaseExpression | None) -> str | None:
    """`a.b.c` for a Name/Attribute chain, else None."""
    parts = []
    while isinstance(expr, cst.Attribute):
        parts.append(expr.attr.value)
        expr = expr.value
    if isinstance(expr, cst.Name):
        parts.append(expr.value)
        return ".".join(reversed(parts))
    return None


def is_self(expr: cst.CSTNode | None) -> bool:
    """Is `expr` the name `self`?"""
    return isinstance(expr, cst.Name) and expr.value == "self"


def is_self_attribute(expr: cst.CSTNode | None) -> TypeGuard[cst.Attribute]:
    """Is `expr` of the form `self.<name>`?"""
    return isinstance(expr, cst.Attribute) and is_self(expr.value)


def root_name(expr: cst.CSTNode | None) -> str | None:
    """The name an attribute/subscript chain starts from: `a` for `a.b[0].c`."""
    while isinstance(expr, (cst.Attribute, cst.Subscript)):
        expr = expr.value
    return expr.value if isinstance(expr, cst.Name) else None


def last_name(expr: cst.CSTNode | None) -> str | None:
    """The last component of a dotted name: `c` for `a.b.c`, `f` for `f`."""
    if isinstance(expr, cst.Attribute):
        return expr.attr.value
    if isinstance(expr, cst.Name):
        return expr.value
    return None


# -- call arguments -------------------------------------------------------------------


def keyword_argument(call: cst.Call | None, name: str) -> cst.BaseExpression | None:
    """The value passed as `name=...` in `call`, or None."""
    if call is None:
        return None
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == name:
            return arg.value
    return None


def argument(call: cst.Call | None, name: str, position: int | None = None) -> cst.BaseExpression | None:
    """The value passed for parameter `name` (by keyword, or at `position` among the
    positional arguments before any `*args`), or None when it is not passed visibly."""
    value = keyword_argument(call, name)
    if value is not None or call is None or position is None:
        return value
    positional = []
    for arg in call.args:
        if arg.keyword is not None:
            continue
        if arg.star:
            break
        positional.append(arg.value)
    return positional[position] if position < len(positional) else None


def function_params(function: cst.FunctionDef) -> list[cst.Param]:
    """Every named parameter of `function`: positional-only, ordinary, keyword-only."""
    p = function.params
    return [*p.posonly_params, *p.params, *p.kwonly_params]


def bind_call(
    function: cst.FunctionDef,
    call: cst.Call | None,
    evaluate: Callable[[cst.BaseExpression], _T],
    default: Callable[[cst.Param | None], _T],
    skip_self: bool = False,
) -> dict[str, _T]:
    """Parameters of `function` bound to `call`'s arguments: `evaluate(arg)` for those it
    passes, `default(param)` for the others; with `*args`/`**kwargs` in the call, every
    parameter not passed by keyword is `default(None)` (unknowable)."""
    params = function.params
    positional = [*params.posonly_params, *params.params]
    keyword_only = list(params.kwonly_params)
    if skip_self:
        positional = positional[1:]
    bound = {p.name.value: default(p) for p in [*positional, *keyword_only]}
    if call is None:
        return bound
    if any(arg.star for arg in call.args):
        passed = {a.keyword.value for a in call.args if a.keyword is not None}
        bound = {name: (value if name in passed else default(None)) for name, value in bound.items()}
    args = [a for a in call.args if a.keyword is None and not a.star]
    for p, arg in zip(positional, args):
        bound[p.name.value] = evaluate(arg.value)
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value in bound:
            bound[arg.keyword.value] = evaluate(arg.value)
    return bound


# -- statements -----------------------------------------------------------------------


def blocks(stmt: cst.CSTNode) -> Iterator[Sequence[cst.BaseStatement]]:
    """The statement blocks directly inside a compound statement (body, else, finally,
    except handlers, match cases); a one-line suite counts as an empty block."""
    body = getattr(stmt, "body", None)
    if isinstance(body, cst.BaseSuite):
        yield body.body if isinstance(body, cst.IndentedBlock) else []
    for attr in ("orelse", "finalbody"):
        other = getattr(stmt, attr, None)
        while other is not None:
            inner = getattr(other, "body", None)
            if isinstance(inner, cst.BaseSuite):
                yield inner.body if isinstance(inner, cst.IndentedBlock) else []
            other = getattr(other, "orelse", None) if isinstance(other, cst.If) else None
    for handler in getattr(stmt, "handlers", ()) or ():
        yield handler.body.body if isinstance(handler.body, cst.IndentedBlock) else []
    for case in getattr(stmt, "cases", ()) or ():
        yield case.body.body if isinstance(case.body, cst.IndentedBlock) else []


def walk_statements(body: Sequence[cst.CSTNode]) -> Iterator[cst.CSTNode]:
    """Statements of a block, descending into compound statements but not nested defs."""
    for stmt in body:
        yield stmt
        if isinstance(stmt, (cst.FunctionDef, cst.ClassDef)):
            continue
        for block in blocks(stmt):
            yield from walk_statements(block)


def assignments_in(body: Sequence[cst.CSTNode]) -> dict[str, list[cst.BaseExpression]]:
    """Every `name = value` of a block (and the blocks nested in it, not nested defs), in order.
    `a, b = x, y` counts as `a = x` and `b = y` (same length, no starred element)."""
    found: dict[str, list[cst.BaseExpression]] = {}
    for stmt in walk_statements(body):
        if isinstance(stmt, cst.SimpleStatementLine):
            for small in stmt.body:
                if isinstance(small, (cst.Assign, cst.AnnAssign)) and small.value is not None:
                    targets = small.targets if isinstance(small, cst.Assign) else [small]
                    for target in targets:
                        for name, value in unpacked(target.target, small.value):
                            found.setdefault(name, []).append(value)
    return found


def unpacked(target: cst.BaseExpression, value: cst.BaseExpression) -> list[tuple[str, cst.BaseExpression]]:
    """(name, value) pairs an assignment binds when each value is known: `m = x`,
    `g, d = G(), D()` (nested tuples too); none for `a, b = f()`."""
    if isinstance(target, cst.Name):
        return [(target.value, value)]
    if isinstance(target, (cst.Tuple, cst.List)) and isinstance(value, (cst.Tuple, cst.List)):
        if len(target.elements) != len(value.elements) or any(
            isinstance(e, cst.StarredElement) for e in (*target.elements, *value.elements)
        ):
            return []
        return [pair for t, v in zip(target.elements, value.elements) for pair in unpacked(t.value, v.value)]
    return []


def target_names(target: cst.CSTNode) -> list[str]:
    """The names an assignment or loop target binds: `x` -> [x], `a, (b, *c)` -> [a, b, c];
    attributes and subscripts bind no name."""
    if isinstance(target, cst.Name):
        return [target.value]
    if isinstance(target, (cst.Tuple, cst.List)):
        return [n for e in target.elements for n in target_names(e.value)]
    if isinstance(target, cst.StarredElement):
        return target_names(target.value)
    return []


def calls_in(node: cst.CSTNode) -> Iterator[cst.Call]:
    """Calls anywhere below `node` (engine calls may be nested in tuples, awaits...), not
    inside lambdas."""
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, cst.Call):
            yield current
        if isinstance(current, cst.Lambda):
            continue
        stack.extend(current.children)


# -- parents --------------------------------------------------------------------------


def parents_of(root: cst.CSTNode) -> dict[cst.CSTNode, cst.CSTNode]:
    """Child -> parent for every node below `root`."""
    parents: dict[cst.CSTNode, cst.CSTNode] = {}
    stack = [root]
    while stack:
        node = stack.pop()
        for child in node.children:
            parents[child] = node
            stack.append(child)
    return parents


@overload
def enclosing(node: cst.CSTNode | None, parents: Parents, kinds: type[_Node]) -> _Node | None: ...


@overload
def enclosing(node: cst.CSTNode | None, parents: Parents, kinds: tuple[type, ...]) -> cst.CSTNode | None: ...


def enclosing(node: cst.CSTNode | None, parents: Parents, kinds: type | tuple[type, ...]) -> cst.CSTNode | None:
    """`node` itself or its nearest ancestor that is an instance of `kinds`."""
    while node is not None and not isinstance(node, kinds):
        node = parents.get(node)
    return node


def contains(root: cst.CSTNode, target: cst.CSTNode) -> bool:
    """Is `target` (by identity) `root` or a node below it?"""
    stack = [root]
    while stack:
        current = stack.pop()
        if current is target:
            return True
        stack.extend(current.children)
    return False

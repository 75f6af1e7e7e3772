"""Formatting-preserving rewrites with libcst, turned into ruff-style text edits.

A fix is built by changing the file's libcst tree (nodes are found by identity, so
only the touched statements are regenerated; comments, blank lines and quoting
elsewhere survive byte for byte), then diffing old and new text line by line. The
resulting `Edit`s are what `check --output-format json` shows and what `fix` applies.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Sequence
from typing import cast

import libcst as cst

from dp_lint.analysis.index import ModuleInfo
from dp_lint.core.findings import Applicability, Edit, Fix, Location
from dp_lint.files.syntax import enclosing, parents_of


class FixUnavailable(Exception):
    """The finding is real but this shape of code has no automatic fix."""


# -- edits -------------------------------------------------------------------------


def _line_starts(text: str) -> list[int]:
    starts = [0]
    for match in re.finditer(r"\r\n|\r|\n", text):
        starts.append(match.end())
    return starts


def edits_between(old: str, new: str) -> tuple[Edit, ...]:
    """Line-level hunks turning `old` into `new` (whole lines replaced, 1-based rows)."""
    old_lines = old.splitlines(keepends=True)
    new_lines = new.splitlines(keepends=True)
    edits = []
    matcher = difflib.SequenceMatcher(a=old_lines, b=new_lines, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        edits.append(
            Edit(Location(i1 + 1, 1), Location(i2 + 1, 1), "".join(new_lines[j1:j2]))
        )
    return tuple(edits)


def _offset(starts: list[int], text: str, location: Location) -> int:
    if location.row - 1 >= len(starts):
        return len(text)
    return min(starts[location.row - 1] + location.column - 1, len(text))


def apply_edits(text: str, edits: Iterable[Edit]) -> str:
    """Apply non-overlapping edits (any order) to `text`."""
    starts = _line_starts(text)
    spans = sorted(
        ((_offset(starts, text, e.location), _offset(starts, text, e.end_location), e.content) for e in edits),
        reverse=True,
    )
    for start, end, content in spans:
        text = text[:start] + content + text[end:]
    return text


def edit_span(text: str, edit: Edit) -> tuple[int, int]:
    starts = _line_starts(text)
    return _offset(starts, text, edit.location), _offset(starts, text, edit.end_location)


def make_fix(old_text: str, new_module: cst.Module, applicability: Applicability, message: str) -> Fix:
    new_text = new_module.code
    if new_text == old_text:
        raise FixUnavailable("the rewrite changed nothing")
    # The rewrite is built from libcst nodes, so it is valid syntax by construction; `fix`
    # parses every result again before writing anything (see fixing.py).
    return Fix(applicability, message, edits_between(old_text, new_text))


# -- names and imports -----------------------------------------------------------------


def local_name_for(module: ModuleInfo, qualname: str) -> str | None:
    """How `qualname` (e.g. `torch.no_grad`) can be written in this module, if already imported."""
    for local, target in module.imports.items():
        if target == qualname:
            return local
        if qualname.startswith(target + "."):
            return local + qualname[len(target):]
    return None


def with_import(tree: cst.Module, statement: str) -> cst.Module:
    """Insert a top-level import after the existing imports (or the docstring)."""
    new_line = cst.parse_statement(statement + "\n")
    body = list(tree.body)
    position = 0
    for i, stmt in enumerate(body):
        if i == 0 and _is_docstring(stmt):
            position = 1
        elif isinstance(stmt, cst.SimpleStatementLine) and all(
            isinstance(s, (cst.Import, cst.ImportFrom)) for s in stmt.body
        ):
            position = i + 1
        else:
            break
    body.insert(position, new_line)
    return tree.with_changes(body=body)


def _is_docstring(stmt) -> bool:
    return (
        isinstance(stmt, cst.SimpleStatementLine)
        and len(stmt.body) == 1
        and isinstance(stmt.body[0], cst.Expr)
        and isinstance(stmt.body[0].value, (cst.SimpleString, cst.ConcatenatedString))
    )


def no_grad_expression(module: ModuleInfo) -> tuple[str, str | None]:
    """(`torch.no_grad()` as it can be written here, the import to add or None)."""
    local = local_name_for(module, "torch.no_grad")
    if local is not None:
        return f"{local}()", None
    if "torch" in module.assignments or "torch" in module.classes or "torch" in module.functions:
        raise FixUnavailable("the name `torch` is taken in this module")
    return "torch.no_grad()", "import torch"


# -- tree surgery --------------------------------------------------------------------


def statement_in_block(node: cst.CSTNode, parents: dict) -> cst.SimpleStatementLine:
    """The statement line holding `node`, which must sit in an indented block of its own."""
    stmt = enclosing(node, parents, cst.SimpleStatementLine)
    if stmt is None or not isinstance(parents.get(stmt), cst.IndentedBlock):
        raise FixUnavailable("the expression is not in a statement of its own")
    if len(stmt.body) != 1:
        raise FixUnavailable("the statement shares its line with others (`;`)")
    return stmt


def replace_nodes(tree: cst.Module, replacements: dict, parents: dict | None = None) -> cst.Module:
    """Replace nodes of the *original* tree (values may be FlattenSentinel or
    RemovalSentinel), rebuilding only the nodes on the way up to the root.

    A transformer over the whole tree would cost a full traversal per fix; several
    `deep_replace` calls in a row would not even work (each rebuilds the nodes around it,
    so later lookups by identity miss).
    """
    parents = parents if parents is not None else parents_of(tree)
    pending: dict = {}  # parent -> {old child: new child}
    for old, new in replacements.items():
        pending.setdefault(parents[old], {})[old] = new
    while pending:
        # Deepest parents first, so that a parent is rebuilt after all its children.
        parent = max(pending, key=lambda node: _depth(node, parents))
        changes = pending.pop(parent)
        rebuilt = _with_children(parent, changes)
        if parent is tree:
            return cast(cst.Module, rebuilt)  # `with_changes` on the root keeps it a Module
        pending.setdefault(parents[parent], {})[parent] = rebuilt
    return tree


def _depth(node, parents) -> int:
    depth = 0
    while node in parents:
        node = parents[node]
        depth += 1
    return depth


def _with_children(parent: cst.CSTNode, changes: dict) -> cst.CSTNode:
    """`parent` with the children in `changes` swapped (sequences spliced for sentinels)."""
    from dataclasses import fields

    updates = {}
    for f in fields(parent):
        value = getattr(parent, f.name)
        if isinstance(value, cst.CSTNode) and value in changes:
            updates[f.name] = changes[value]
        elif isinstance(value, (list, tuple)) and any(isinstance(v, cst.CSTNode) and v in changes for v in value):
            items: list[object] = []
            for item in value:
                new = changes.get(item, item) if isinstance(item, cst.CSTNode) else item
                if isinstance(new, cst.FlattenSentinel):
                    items.extend(new.nodes)
                elif new is cst.RemovalSentinel.REMOVE:
                    continue
                else:
                    items.append(new)
            updates[f.name] = type(value)(items) if isinstance(value, tuple) else items
    return parent.with_changes(**updates)


def under_no_grad(statements: Sequence[cst.BaseStatement], no_grad: str, first: cst.SimpleStatementLine) -> cst.With:
    """`with torch.no_grad():` around `statements`, taking over the comments above `first`."""
    inner = [s.with_changes(leading_lines=()) if i == 0 else s for i, s in enumerate(statements)]
    return cst.With(
        items=[cst.WithItem(cst.parse_expression(no_grad))],
        body=cst.IndentedBlock(body=inner),
        leading_lines=first.leading_lines,
    )


def fresh_name(function: cst.CSTNode, base: str) -> str:
    taken = {n.value for n in _names(function)}
    base = re.sub(r"\W", "_", base).strip("_") or "value"
    name = base
    counter = 1
    while name in taken:
        counter += 1
        name = f"{base}_{counter}"
    return name


def _names(node: cst.CSTNode):
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, cst.Name):
            yield current
        stack.extend(current.children)


def calls_before(statement: cst.CSTNode, target: cst.CSTNode, parents: dict, positions) -> bool:
    """Is any call evaluated before `target` in `statement` (other than calls enclosing it)?

    Hoisting `target` out of the statement would then change the order of calls, and
    with it the random numbers dropout draws: not a safe fix.
    """
    ancestors = set()
    node = parents.get(target)
    while node is not None and node is not statement:
        ancestors.add(node)
        node = parents.get(node)
    target_start = positions[target].start
    stack = [statement]
    while stack:
        current = stack.pop()
        if current is target:
            continue
        if isinstance(current, cst.Call) and current not in ancestors:
            start = positions[current].start
            if (start.line, start.column) < (target_start.line, target_start.column):
                return True
        stack.extend(current.children)
    return False


def class_reference(module: ModuleInfo, qualname: str, import_from: str, name: str) -> tuple[str, str | None]:
    """How to write class `name` from `import_from` here: (expression, import to add or None)."""
    local = local_name_for(module, qualname)
    if local is not None:
        return local, None
    taken = name in module.imports or name in module.classes or name in module.functions or name in module.assignments
    if taken:
        raise FixUnavailable(f"the name `{name}` is already used in this module")
    return name, f"from {import_from} import {name}"


def add_keyword(call: cst.Call, keyword: str, value: cst.BaseExpression) -> cst.Call:
    """`f(a, b)` -> `f(a, b, keyword=value)`, following the call's comma and line style."""
    args = list(call.args)
    new_arg = cst.Arg(
        value=value,
        keyword=cst.Name(keyword),
        equal=cst.AssignEqual(whitespace_before=cst.SimpleWhitespace(""), whitespace_after=cst.SimpleWhitespace("")),
    )
    if not args:
        return call.with_changes(args=[new_arg])
    last = args[-1]
    if isinstance(last.comma, cst.Comma):
        # Trailing comma (one argument per line): the old last comma, which leads to the
        # closing parenthesis, moves to the new argument; the last argument gets the
        # separator its predecessors use (newline plus indentation).
        if len(args) > 1 and isinstance(args[-2].comma, cst.Comma):
            separator = args[-2].comma
        else:
            separator = cst.Comma(whitespace_after=call.whitespace_before_args)
        args[-1] = last.with_changes(comma=separator)
        args.append(new_arg.with_changes(comma=last.comma))
        return call.with_changes(args=args)
    args[-1] = last.with_changes(
        comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")), whitespace_after_arg=cst.SimpleWhitespace("")
    )
    args.append(new_arg.with_changes(whitespace_after_arg=last.whitespace_after_arg))
    return call.with_changes(args=args)

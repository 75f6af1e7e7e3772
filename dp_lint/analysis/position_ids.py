"""Position ids without a batch dimension, looked up in an embedding (GPT/BERT-style positions).

    pos = torch.arange(0, t, device=idx.device)          # [T]: no batch dimension
    x = self.tok_emb(idx) + self.pos_emb(pos)             # [T, D] broadcast over the batch

    self.register_buffer("position_ids", torch.arange(n).expand((1, -1)))   # [1, n]
    x = x + self.pos(self.position_ids[:, :t])                             # [1, T, D]

`batchless_ids(expr, site)` says whether an embedding's argument is such a value: built from
`torch.arange(...)`, kept 1-D or given a leading dimension of size one (`.unsqueeze(0)`, `[None]`,
`.view(1, -1)`, `.expand(1, -1)`, `.expand((1, -1))`), through shape-keeping methods (`.to(...)`,
`.long()`, `.contiguous()`...) and slices, directly, through local names assigned in the
function's top-level statements, or through a buffer the class registers once in `__init__`
(`self.register_buffer("position_ids", ...)`). An `.expand(B, ...)`/`.repeat(B, ...)` whose first
size is not the literal 1 gives the ids a batch dimension: no answer. Anything else (a parameter,
a name bound in a branch or a loop, an unknown method) is unknown: None.

`batched_operand(expr, site)` and `batch_size_expression(site, operand)` serve the fix
(`.expand(<batch>, -1)` before the lookup): is the other operand of the `+` that adds the
embedding's output a tensor whose first dimension is the batch (the forward's input, a torch
layer's output on it, reshapes that keep dimension 0), and which expression gives its size there.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import libcst as cst

from dp_lint.analysis.index import ClassInfo, ModuleInfo, ProjectIndex
from dp_lint.files.source import SourceFile
from dp_lint.files.syntax import function_params, is_self, is_self_attribute

__all__ = ["BatchlessIds", "IdsSite", "batch_size_expression", "batched_operand", "batchless_ids"]

_ARANGE = frozenset({"torch.arange"})
# Methods that keep a tensor's shape.
_SAME_SHAPE = frozenset({"to", "long", "int", "cuda", "cpu", "clone", "contiguous", "detach", "type", "type_as"})
# Torch layers whose output keeps the input's first (batch) dimension.
_BATCH_KEEPING_LAYERS = frozenset({
    "Embedding", "Linear", "Conv1d", "Conv2d", "Conv3d", "LayerNorm", "Dropout", "Identity", "GELU", "ReLU",
})
_MAX_DEPTH = 12


@dataclass(frozen=True)
class BatchlessIds:
    """Ids without a batch dimension: `rank` 1 (`arange(T)`, shape [T]) or 2 (shape [1, T])."""

    rank: int
    arange: cst.Call  # the `torch.arange(...)` call they come from
    buffer: str | None = None  # the buffer's name when they are read from `self.<buffer>`


@dataclass(frozen=True)
class IdsSite:
    """Where an embedding is called: the function written around the call (`forward` or a method
    it calls), its module and file, the class, and the call."""

    call: cst.Call
    function: cst.FunctionDef
    module: ModuleInfo
    file: SourceFile
    cls: ClassInfo
    index: ProjectIndex


# -- local names ------------------------------------------------------------------------------


class _Locals:
    """The names of one function: `name = value` in its top-level statements (by position), the
    names bound anywhere else (branches, loops, unpacking, augmented assignments: unknown), and
    its parameters."""

    def __init__(self, function: cst.FunctionDef) -> None:
        self.function = function
        self.body: list[cst.BaseStatement] = (
            list(function.body.body) if isinstance(function.body, cst.IndentedBlock) else [])
        self.params = {p.name.value for p in function_params(function)}
        self.assigned: dict[str, list[tuple[int, cst.BaseExpression]]] = {}
        top: set[int] = set()
        for position, stmt in enumerate(self.body):
            if not isinstance(stmt, cst.SimpleStatementLine):
                continue
            for small in stmt.body:
                if isinstance(small, cst.Assign) and len(small.targets) == 1 and isinstance(
                        small.targets[0].target, cst.Name):
                    self.assigned.setdefault(small.targets[0].target.value, []).append((position, small.value))
                    top.add(id(small.targets[0].target))
                elif isinstance(small, cst.AnnAssign) and small.value is not None and isinstance(small.target, cst.Name):
                    self.assigned.setdefault(small.target.value, []).append((position, small.value))
                    top.add(id(small.target))
                elif isinstance(small, cst.AugAssign) and isinstance(small.target, cst.Name) and isinstance(
                        small.operator, (cst.AddAssign, cst.SubtractAssign, cst.MultiplyAssign)):
                    # `x += y` reads as `x = x + y` here.
                    operator: cst.BaseBinaryOp = (
                        cst.Add() if isinstance(small.operator, cst.AddAssign)
                        else cst.Subtract() if isinstance(small.operator, cst.SubtractAssign) else cst.Multiply())
                    value = cst.BinaryOperation(small.target, operator, small.value)
                    self.assigned.setdefault(small.target.value, []).append((position, value))
                    top.add(id(small.target))
        self.unknown: set[str] = {name.value for name in _bound_names(function.body) if id(name) not in top}

    def value(self, name: str, before: int) -> tuple[int, cst.BaseExpression] | None:
        """The last top-level `name = value` before statement `before`; None when the name is
        bound elsewhere too, or only as a parameter."""
        if name in self.unknown:
            return None
        earlier = [(p, v) for p, v in self.assigned.get(name, []) if p < before]
        return earlier[-1] if earlier else None

    def is_parameter_here(self, name: str, before: int) -> bool:
        """Is `name` still the function's parameter at statement `before` (never bound before it)?"""
        return (name in self.params and name not in self.unknown
                and not any(p < before for p, _ in self.assigned.get(name, [])))

    def position_of(self, node: cst.CSTNode, parents: dict[cst.CSTNode, cst.CSTNode]) -> int | None:
        """The index of the top-level statement holding `node`."""
        statements = {id(s): i for i, s in enumerate(self.body)}
        current: cst.CSTNode | None = node
        while current is not None:
            if id(current) in statements:
                return statements[id(current)]
            current = parents.get(current)
        return None


def _bound_names(root: cst.CSTNode) -> Iterator[cst.Name]:
    """Every name node a binding of `root` binds (assignment and loop targets, `as` names, walrus,
    augmented assignments, `del`, `global`/`nonlocal`), nested definitions excluded."""
    stack: list[cst.CSTNode] = list(root.children)
    while stack:
        node = stack.pop()
        if isinstance(node, (cst.FunctionDef, cst.ClassDef, cst.Lambda)):
            continue
        targets: list[cst.CSTNode] = []
        if isinstance(node, cst.AssignTarget):
            targets.append(node.target)
        elif isinstance(node, (cst.AnnAssign, cst.AugAssign, cst.For, cst.CompFor)):
            targets.append(node.target)
        elif isinstance(node, (cst.AsName, cst.NamedExpr)):
            targets.append(node.name if isinstance(node, cst.AsName) else node.target)
        elif isinstance(node, cst.Del):
            targets.append(node.target)
        elif isinstance(node, (cst.Global, cst.Nonlocal)):
            targets.extend(item.name for item in node.names)
        for target in targets:
            yield from _names_of(target)
        stack.extend(node.children)


def _names_of(target: cst.CSTNode) -> Iterator[cst.Name]:
    if isinstance(target, cst.Name):
        yield target
    elif isinstance(target, (cst.Tuple, cst.List)):
        for element in target.elements:
            yield from _names_of(element.value)
    elif isinstance(target, cst.StarredElement):
        yield from _names_of(target.value)


# -- literals -------------------------------------------------------------------------------


def _int(expr: cst.BaseExpression | None) -> int | None:
    if isinstance(expr, cst.Integer):
        return int(expr.value)
    if isinstance(expr, cst.UnaryOperation) and isinstance(expr.operator, cst.Minus) and isinstance(
            expr.expression, cst.Integer):
        return -int(expr.expression.value)
    return None


def _sizes(call: cst.Call) -> list[cst.BaseExpression] | None:
    """The sizes of `.expand(a, b)` / `.expand((a, b))` / `.view([a, b])`; None with `*args`/keywords."""
    if any(a.star or a.keyword is not None for a in call.args):
        return None
    if len(call.args) == 1 and isinstance(call.args[0].value, (cst.Tuple, cst.List)):
        elements = call.args[0].value.elements
        if any(isinstance(e, cst.StarredElement) for e in elements):
            return None
        return [e.value for e in elements]
    return [a.value for a in call.args]


def _dim_argument(call: cst.Call) -> int | None:
    """The literal `dim` of `.unsqueeze(0)` / `.unsqueeze(dim=0)`."""
    if len(call.args) != 1 or call.args[0].star:
        return None
    arg = call.args[0]
    if arg.keyword is not None and arg.keyword.value != "dim":
        return None
    return _int(arg.value)


# -- the ids ----------------------------------------------------------------------------------


class _Reader:
    """Reads ids values in one function (and, for buffers, in the `__init__`s of the class)."""

    def __init__(self, site: IdsSite, function: cst.FunctionDef, module: ModuleInfo, file: SourceFile,
                 depth: int = 0) -> None:
        self.site = site
        self.module = module
        self.file = file
        self.locals = _Locals(function)
        self.depth = depth

    def ids(self, expr: cst.BaseExpression, before: int) -> BatchlessIds | None:
        if self.depth > _MAX_DEPTH:
            return None
        self.depth += 1
        try:
            return self._ids(expr, before)
        finally:
            self.depth -= 1

    def _ids(self, expr: cst.BaseExpression, before: int) -> BatchlessIds | None:
        if isinstance(expr, cst.Name):
            found = self.locals.value(expr.value, before)
            return self.ids(found[1], found[0]) if found is not None else None
        if is_self_attribute(expr):
            return self._buffer(expr.attr.value)
        if isinstance(expr, cst.Subscript):
            base = self.ids(expr.value, before)
            return _subscripted(base, expr) if base is not None else None
        if isinstance(expr, cst.BinaryOperation) and isinstance(expr.operator, (cst.Add, cst.Subtract)):
            # `arange(T) + 2` (fairseq-style offsets): the same shape.
            if _int(expr.right) is not None:
                return self.ids(expr.left, before)
            if _int(expr.left) is not None and isinstance(expr.operator, cst.Add):
                return self.ids(expr.right, before)
            return None
        if not isinstance(expr, cst.Call):
            return None
        func = expr.func
        if isinstance(func, (cst.Name, cst.Attribute)) and self.module.resolve_expr(func) in _ARANGE:
            return BatchlessIds(1, expr)
        if not isinstance(func, cst.Attribute):
            return None
        base = self.ids(func.value, before)
        if base is None:
            return None
        return _method_result(base, func.attr.value, expr)

    def _buffer(self, name: str) -> BatchlessIds | None:
        """`self.<name>` registered once with `register_buffer` in an `__init__` of the class (or
        its project bases), and never assigned: the registered value."""
        index = self.site.index
        registrations: list[tuple[ClassInfo, cst.FunctionDef, cst.Call]] = []
        for owner in index.mro(self.site.cls):
            for method in owner.methods.values():
                for node in _walk(method.node.body):
                    if isinstance(node, cst.AssignTarget) and _is_self_named(node.target, name):
                        return None  # `self.position_ids = ...`: may be changed
                    if isinstance(node, cst.AugAssign) and _is_self_named(node.target, name):
                        return None
                    if isinstance(node, cst.Call) and _registers(node, name):
                        if method.name != "__init__":
                            return None
                        registrations.append((owner, method.node, node))
        if len(registrations) != 1:
            return None
        owner, init, call = registrations[0]
        value = call.args[1].value if len(call.args) > 1 and call.args[1].keyword is None else None
        if value is None:
            value = next((a.value for a in call.args if a.keyword is not None and a.keyword.value == "tensor"), None)
        if value is None:
            return None
        reader = _Reader(self.site, init, owner.module, owner.module.file, self.depth)
        position = reader.locals.position_of(call, owner.module.file.parents)
        if position is None:
            return None
        found = reader.ids(value, position)
        return BatchlessIds(found.rank, found.arange, name) if found is not None else None


def _walk(root: cst.CSTNode) -> Iterator[cst.CSTNode]:
    stack: list[cst.CSTNode] = [root]
    while stack:
        node = stack.pop()
        yield node
        stack.extend(node.children)


def _is_self_named(target: cst.BaseExpression, name: str) -> bool:
    return is_self_attribute(target) and target.attr.value == name


def _registers(call: cst.Call, name: str) -> bool:
    """`self.register_buffer("<name>", ...)`."""
    func = call.func
    if not (isinstance(func, cst.Attribute) and func.attr.value == "register_buffer" and is_self(func.value)):
        return False
    first = call.args[0].value if call.args else None
    return isinstance(first, cst.SimpleString) and first.evaluated_value == name


def _method_result(base: BatchlessIds, method: str, call: cst.Call) -> BatchlessIds | None:
    if method in _SAME_SHAPE:
        return base
    if method == "unsqueeze":
        return BatchlessIds(2, base.arange, base.buffer) if base.rank == 1 and _dim_argument(call) == 0 else None
    sizes = _sizes(call)
    if sizes is None:
        return None
    if method in ("view", "reshape"):
        # `.view(1, -1)`, `.view(1, t)`: a leading dimension of size one.
        return BatchlessIds(2, base.arange, base.buffer) if len(sizes) == 2 and _int(sizes[0]) == 1 else None
    if method in ("expand", "repeat"):
        # The first size decides: the literal 1 keeps ids without a batch; anything else
        # (`.expand(B, -1)`, `.repeat(b, 1)`) gives them one.
        if not sizes or _int(sizes[0]) != 1:
            return None
        if len(sizes) == 2:
            return BatchlessIds(2, base.arange, base.buffer)
        return None
    return None


def _subscripted(base: BatchlessIds, expr: cst.Subscript) -> BatchlessIds | None:
    """`ids[:t]` / `ids[None]` / `ids[None, :t]` of [T]; `ids[:, :t]` / `ids[0]` / `ids[0, :t]` of [1, T]."""
    elements = [e.slice for e in expr.slice]
    if not elements:
        return None
    first, rest = elements[0], elements[1:]
    if base.rank == 1:
        if not rest and isinstance(first, cst.Slice):
            return base
        if _is_none(first) and len(rest) <= 1 and all(isinstance(e, cst.Slice) for e in rest):
            return BatchlessIds(2, base.arange, base.buffer)
        return None
    if len(rest) > 1 or not all(isinstance(e, cst.Slice) for e in rest):
        return None
    if isinstance(first, cst.Slice) and first.lower is None and first.upper is None and first.step is None:
        return base
    if isinstance(first, cst.Index) and _int(first.value) == 0:
        return BatchlessIds(1, base.arange, base.buffer)
    return None


def _is_none(element: cst.BaseSlice) -> bool:
    return isinstance(element, cst.Index) and isinstance(element.value, cst.Name) and element.value.value == "None"


def batchless_ids(expr: cst.BaseExpression, site: IdsSite) -> BatchlessIds | None:
    """The ids `expr` (an argument of `site.call`) when they certainly have no batch dimension
    (`[T]` or `[1, T]` from `torch.arange`); None otherwise or when unknown."""
    reader = _Reader(site, site.function, site.module, site.file)
    position = reader.locals.position_of(site.call, site.file.parents)
    if position is None:
        return None
    return reader.ids(expr, position)


# -- the fix's facts ----------------------------------------------------------------------------


class _Batch:
    """Which values of one function certainly have the batch on dimension 0."""

    def __init__(self, site: IdsSite, layers: dict[str, str | None]) -> None:
        self.site = site
        self.locals = _Locals(site.function)
        self.layers = layers  # submodule attribute -> its torch class (None: not a torch layer)
        positional = [p for p in site.function.params.params]
        self.input = positional[1].name.value if len(positional) > 1 and positional[1].default is None else None

    def batched(self, expr: cst.BaseExpression, before: int, depth: int = 0) -> bool:
        if depth > _MAX_DEPTH:
            return False
        if isinstance(expr, cst.Name):
            if self.input is not None and expr.value == self.input and self.locals.is_parameter_here(expr.value, before):
                return True
            found = self.locals.value(expr.value, before)
            return found is not None and self.batched(found[1], found[0], depth + 1)
        if isinstance(expr, cst.BinaryOperation) and isinstance(expr.operator, (cst.Add, cst.Subtract, cst.Multiply)):
            return self.batched(expr.left, before, depth + 1) or self.batched(expr.right, before, depth + 1)
        if not isinstance(expr, cst.Call) or not isinstance(expr.func, cst.Attribute):
            return False
        func = expr.func
        if is_self(func.value):
            # `self.tok_emb(idx)`: a torch layer keeping the batch dimension, on a batched input.
            if self.layers.get(func.attr.value) not in _BATCH_KEEPING_LAYERS or not expr.args:
                return False
            return expr.args[0].keyword is None and self.batched(expr.args[0].value, before, depth + 1)
        method = func.attr.value
        if method in _SAME_SHAPE:
            return self.batched(func.value, before, depth + 1)
        if method in ("flatten", "transpose"):
            dims = [_int(a.value) for a in expr.args if a.keyword is None]
            if len(dims) != len(expr.args) or any(d is None or d < 1 for d in dims) or (method == "transpose"
                                                                                        and len(dims) != 2):
                return False
            return self.batched(func.value, before, depth + 1)
        return False


def batched_operand(expr: cst.BaseExpression, site: IdsSite, layers: dict[str, str | None]) -> bool:
    """Is `expr` (the other operand of the `+` around `site.call`) certainly a tensor with the
    batch on dimension 0: the function's first input, a torch layer's output on such a tensor
    (`self.tok_emb(idx)`), their sums, shape-keeping methods, `.flatten(k)`/`.transpose(i, j)` of
    later dimensions, or a local name bound to one in a top-level statement? `layers` maps the
    class's submodule attributes to their torch layer class."""
    batch = _Batch(site, layers)
    position = batch.locals.position_of(site.call, site.file.parents)
    return position is not None and batch.batched(expr, position)


def batch_size_expression(site: IdsSite, operand: cst.BaseExpression) -> str | None:
    """The code of the batch size at `site.call`, for `operand` that `batched_operand` accepted:
    a name bound by `b, t = idx.size()` / `idx.shape` / `b = idx.size(0)` / `idx.shape[0]` in a
    top-level statement before the call (and not bound elsewhere), else `<operand>.size(0)` for a
    name, else `<input>.size(0)` for the function's first input when it is still that input."""
    locals_ = _Locals(site.function)
    position = locals_.position_of(site.call, site.file.parents)
    positional = list(site.function.params.params)
    inp = positional[1].name.value if len(positional) > 1 and positional[1].default is None else None
    if position is None:
        return None
    bindings = [n.value for n in _bound_names(site.function.body)]
    for index, stmt in enumerate(locals_.body[:position]):
        if not isinstance(stmt, cst.SimpleStatementLine):
            continue
        for small in stmt.body:
            if not isinstance(small, cst.Assign) or len(small.targets) != 1:
                continue
            name = _batch_name(small.targets[0].target, small.value)
            if (name is not None and inp is not None and name[1] == inp and locals_.is_parameter_here(inp, index)
                    and bindings.count(name[0]) == 1):
                return name[0]
    if isinstance(operand, cst.Name):
        return f"{operand.value}.size(0)"
    if inp is not None and locals_.is_parameter_here(inp, position):
        return f"{inp}.size(0)"
    return None


def _batch_name(target: cst.BaseExpression, value: cst.BaseExpression) -> tuple[str, str] | None:
    """(`b`, `idx`) for `b, t = idx.size()` / `idx.shape` / `idx.shape[:2]`, `b = idx.size(0)`,
    `b = idx.shape[0]`."""
    if isinstance(target, (cst.Tuple, cst.List)) and target.elements and isinstance(target.elements[0].value, cst.Name):
        source = value
        if isinstance(source, cst.Subscript):
            source = source.value
        if isinstance(source, cst.Call) and not source.args:
            source = source.func
            if isinstance(source, cst.Attribute) and source.attr.value == "size" and isinstance(source.value, cst.Name):
                return target.elements[0].value.value, source.value.value
            return None
        if isinstance(source, cst.Attribute) and source.attr.value == "shape" and isinstance(source.value, cst.Name):
            return target.elements[0].value.value, source.value.value
        return None
    if not isinstance(target, cst.Name):
        return None
    if isinstance(value, cst.Call) and isinstance(value.func, cst.Attribute) and value.func.attr.value == "size":
        if len(value.args) == 1 and _int(value.args[0].value) == 0 and isinstance(value.func.value, cst.Name):
            return target.value, value.func.value.value
        return None
    if (isinstance(value, cst.Subscript) and isinstance(value.value, cst.Attribute) and value.value.attr.value == "shape"
            and isinstance(value.value.value, cst.Name) and len(value.slice) == 1
            and isinstance(value.slice[0].slice, cst.Index) and _int(value.slice[0].slice.value) == 0):
        return target.value, value.value.value.value
    return None

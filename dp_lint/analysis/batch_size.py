"""Shapes of a private model that assume the training loader's batch size.

    loader = DataLoader(dataset, batch_size=args.batch_size)
    model = Seq(args.batch_size)                  # class Seq: self.h0 = torch.zeros(1, batch_size, H)
    make_private(module=model, data_loader=loader, ...)   # Poisson sampling: batch sizes vary

For a `TrainingSetup`, `fixed_batch_shapes` lists where the wrapped model's class bakes the loader's
batch size into a shape: a tensor created in `__init__` (a plain attribute, an `nn.Parameter`, a
`register_buffer`) that `forward` reads, or a `view`/`reshape`/`expand`/tensor factory in `forward`
whose first size is that batch size.

The evidence that a value *is* the training batch size (and not some other 16):
- the loader's `batch_size=` resolves to an int (value analysis: constants, argparse defaults, config
  objects), and
- the model's constructor argument resolves to the same int and is either written with the same
  name (`args.batch_size` in both calls) or bound to a parameter named like a batch size
  (`batch_size`, `bs`, `batch`); a config attribute of that name (`cfg.batch_size`) counts alike;
- or `forward`/`__init__` reads the same module-level name the loader's `batch_size=` reads
  (`BATCH_SIZE` imported from one module by both).

Anything else (an unresolved loader, a `batch_sampler`, a constructor dp-lint cannot bind) gives
no shape: unknown never produces a finding.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import libcst as cst

from dp_lint.analysis.index import ClassInfo, FunctionInfo, ModuleInfo, ProjectIndex
from dp_lint.analysis.objects import NamespaceValue, ObjectValue
from dp_lint.analysis.training import TrainingSetup
from dp_lint.analysis.values import UNKNOWN, Unknown
from dp_lint.files.source import SourceFile
from dp_lint.files.syntax import argument, bind_call, calls_in, dotted_name, is_self_attribute, root_name

__all__ = ["BATCH_NAMES", "FixedBatchShape", "LoaderBatchSize", "fixed_batch_shapes", "loader_batch_size"]

BATCH_NAMES = frozenset({"batch_size", "bs", "batch", "train_batch_size", "BATCH_SIZE", "BATCH", "BS"})
_LOADERS = frozenset({"torch.utils.data.DataLoader", "torch.utils.data.dataloader.DataLoader"})
_FACTORIES = frozenset({"zeros", "ones", "randn", "rand", "empty", "full", "randint", "normal"})
_RESHAPES = frozenset({"view", "reshape", "expand"})


@dataclass(frozen=True)
class LoaderBatchSize:
    """The `batch_size=` of the loader given to an engine call: its value and expression."""

    value: int
    expr: cst.BaseExpression
    call: cst.Call


@dataclass(frozen=True)
class FixedBatchShape:
    """One place where the model's class bakes the loader's batch size into a shape."""

    node: cst.CSTNode  # the reported node: the factory call in `__init__`, or the call in `forward`
    file: SourceFile
    kind: str  # "state" (a tensor made in __init__ and read in forward) or the method: "view", "zeros"...
    size: str  # the code of the batch-size expression (`self.batch_size`, `batch_size`)
    attribute: str | None  # for "state": the attribute `forward` reads (`h0`)
    batch_size: int
    model: ClassInfo


def _code(node: cst.CSTNode) -> str:
    return cst.Module([]).code_for_node(node)


def loader_batch_size(setup: TrainingSetup) -> LoaderBatchSize | Unknown:
    """The int `batch_size=` of the DataLoader passed (or bound to the name passed) as the engine
    call's `data_loader`; UNKNOWN when it is not a visible `DataLoader(...)` with a resolvable int."""
    expr = setup.data_loader_arg
    if isinstance(expr, cst.Name):
        assigned = setup.scope.get(expr.value) or []
        expr = assigned[0] if len(assigned) == 1 else None
    if not isinstance(expr, cst.Call) or any(a.star for a in expr.args):
        return UNKNOWN
    if setup.module.resolve_expr(expr.func) not in _LOADERS or argument(expr, "batch_sampler") is not None:
        return UNKNOWN
    size = argument(expr, "batch_size", 1)
    if size is None or setup.values is None:
        return UNKNOWN
    value = setup.values.at(setup.module, expr).evaluate(size)
    if not isinstance(value, int) or isinstance(value, bool) or value < 2:
        return UNKNOWN
    return LoaderBatchSize(value, size, expr)


def _global_qualname(expr: cst.BaseExpression, module: ModuleInfo, local: set[str]) -> str | None:
    """The qualified name of a dotted name whose first name is bound at module level in `module`
    (and not shadowed by a local name); None otherwise."""
    name = dotted_name(expr)
    if name is None:
        return None
    head = name.partition(".")[0]
    if head in local or not module.binds(head):
        return None
    return module.resolve_expr(expr)


def _method(index: ProjectIndex, cls: ClassInfo, name: str) -> FunctionInfo | None:
    for c in index.mro(cls):
        if name in c.methods:
            return c.methods[name]
    return None


def _local_names(function: cst.FunctionDef | None, scope: dict[str, list[cst.BaseExpression]]) -> set[str]:
    names = set(scope)
    if function is not None:
        p = function.params
        names |= {q.name.value for q in [*p.posonly_params, *p.params, *p.kwonly_params]}
    return names


class _Evidence:
    """Which expressions of the model class stand for the loader's batch size."""

    def __init__(self, setup: TrainingSetup, index: ProjectIndex, loader: LoaderBatchSize, cls: ClassInfo,
                 init: FunctionInfo | None) -> None:
        self.loader = loader
        self.index = index
        self.cls = cls
        self.global_name = _global_qualname(loader.expr, setup.module, _local_names(setup.function, setup.scope))
        self.params: set[str] = set()  # __init__ parameters holding the batch size
        self.config_params: dict[str, str] = {}  # __init__ parameter -> its batch-size attribute
        values = setup.values
        call = setup.engine.wrapped_call
        module = setup.engine.wrapped_module
        if init is None or call is None or module is None or values is None:
            return
        caller = values.at(module, call)
        loader_text = dotted_name(loader.expr)
        same_function = values.at(module, call) is values.at(setup.module, loader.call)
        bound = bind_call(init.node, call, lambda e: e, lambda p: p.default if p is not None else None,
                          skip_self=True)
        for name, expr in bound.items():
            if expr is None:
                continue
            passed = any(expr is a.value for a in call.args)
            evaluator = caller if passed else values.scope(init.module, None)
            value = evaluator.evaluate(expr)
            if self._is_size(value) and (name in BATCH_NAMES or (
                    passed and same_function and loader_text is not None and dotted_name(expr) == loader_text)):
                self.params.add(name)
            elif isinstance(value, (ObjectValue, NamespaceValue)):
                for attr in BATCH_NAMES:
                    if self._is_size(values.attribute(value, attr)):
                        self.config_params[name] = attr

    def _is_size(self, value: object) -> bool:
        return isinstance(value, int) and not isinstance(value, bool) and value == self.loader.value

    def in_init(self, expr: cst.BaseExpression, local: set[str]) -> bool:
        """Does `expr`, written in `__init__`, stand for the batch size?"""
        if isinstance(expr, cst.Name) and expr.value in self.params:
            return True
        if (isinstance(expr, cst.Attribute) and isinstance(expr.value, cst.Name)
                and self.config_params.get(expr.value.value) == expr.attr.value):
            return True
        return self.is_global(expr, local)

    def is_global(self, expr: cst.BaseExpression, local: set[str]) -> bool:
        if self.global_name is None:
            return False
        return _global_qualname(expr, self.cls.module, local) == self.global_name


def _size_args(call: cst.Call) -> list[cst.BaseExpression]:
    """The size arguments of a tensor factory: its positional arguments, a tuple/list's elements."""
    args = [a.value for a in call.args if a.keyword is None and not a.star]
    if len(args) == 1 and isinstance(args[0], (cst.Tuple, cst.List)):
        return [e.value for e in args[0].elements if isinstance(e, cst.Element)]
    size = argument(call, "size")
    if isinstance(size, (cst.Tuple, cst.List)):
        return [e.value for e in size.elements if isinstance(e, cst.Element)]
    return args


def _factory(call: cst.Call, module: ModuleInfo) -> str | None:
    qualname = module.resolve_expr(call.func)
    if qualname is None or not qualname.startswith("torch."):
        return None
    last = qualname.rpartition(".")[2]
    return last if last in _FACTORIES and qualname == f"torch.{last}" else None


def _self_targets(stmt: cst.BaseSmallStatement) -> list[str]:
    if isinstance(stmt, cst.Assign):
        return [t.target.attr.value for t in stmt.targets if is_self_attribute(t.target)]
    if isinstance(stmt, cst.AnnAssign) and is_self_attribute(stmt.target):
        return [stmt.target.attr.value]
    return []


def _small_statements(function: cst.FunctionDef) -> Iterator[cst.BaseSmallStatement]:
    for node in _walk(function.body):
        if isinstance(node, cst.SimpleStatementLine):
            yield from node.body


def _walk(node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    yield node
    for child in node.children:
        if not isinstance(child, (cst.FunctionDef, cst.ClassDef, cst.Lambda)):
            yield from _walk(child)


def _reads_self(function: cst.FunctionDef, attr: str) -> bool:
    return any(is_self_attribute(n) and n.attr.value == attr for n in _walk(function.body))


def fixed_batch_shapes(setup: TrainingSetup, index: ProjectIndex) -> list[FixedBatchShape]:
    """Where the model the engine call wraps assumes the loader's batch size (see the module doc).
    Empty unless the engine call makes private with Poisson sampling (`poisson_sampling=True`, the
    default), the wrapped class and its constructor call are known, and the loader's batch size is."""
    engine = setup.engine
    if not engine.kind.makes_private or setup.poisson_sampling is not True:
        return []
    cls = engine.wrapped
    if cls is None or engine.wrapped_call is None:
        return []
    loader = loader_batch_size(setup)
    if isinstance(loader, Unknown):
        return []
    forward = _method(index, cls, "forward")
    if forward is None:
        return []
    init = _method(index, cls, "__init__")
    evidence = _Evidence(setup, index, loader, cls, init)
    found: list[FixedBatchShape] = []
    size_attrs: set[str] = set()
    if init is not None:
        init_local = {p.name.value for p in init.params}
        for stmt in _small_statements(init.node):
            targets = _self_targets(stmt)
            value = getattr(stmt, "value", None)
            if targets and value is not None and evidence.in_init(value, init_local):
                size_attrs.update(targets)  # self.batch_size = batch_size
                continue
            for call in calls_in(stmt):
                if _factory(call, init.module) is None or not any(
                        evidence.in_init(a, init_local) for a in _size_args(call)):
                    continue
                state = targets
                if not state and isinstance(stmt, cst.Expr) and isinstance(stmt.value, cst.Call):
                    register = stmt.value  # self.register_buffer("h0", torch.zeros(...))
                    name = register.args[0].value if register.args else None
                    if (isinstance(register.func, cst.Attribute) and register.func.attr.value == "register_buffer"
                            and isinstance(name, cst.SimpleString)):
                        state = [name.value[1:-1]]
                for attr in state:
                    if _reads_self(forward.node, attr):
                        found.append(FixedBatchShape(call, init.module.file, "state", _code(
                            next(a for a in _size_args(call) if evidence.in_init(a, init_local))),
                            attr, loader.value, cls))
    forward_local = {p.name.value for p in forward.params} | set(_assigned_names(forward.node))
    for call in calls_in(forward.node):
        kind: str | None = None
        sizes: list[cst.BaseExpression] = []
        if isinstance(call.func, cst.Attribute) and call.func.attr.value in _RESHAPES and not _factory(call, forward.module):
            kind = call.func.attr.value
            sizes = _size_args(call)
        else:
            kind = _factory(call, forward.module)
            sizes = _size_args(call) if kind else []
        if kind is None or not sizes:
            continue
        first = sizes[0]
        if (is_self_attribute(first) and first.attr.value in size_attrs) or evidence.is_global(first, forward_local):
            found.append(FixedBatchShape(call, forward.module.file, kind, _code(first), None, loader.value, cls))
    return found


def _assigned_names(function: cst.FunctionDef) -> Iterator[str]:
    for stmt in _small_statements(function):
        if isinstance(stmt, cst.Assign):
            for t in stmt.targets:
                name = root_name(t.target) if isinstance(t.target, cst.Name) else None
                if name is not None:
                    yield name


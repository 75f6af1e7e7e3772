"""The training script around each engine call: its settings, what it returns, and the statements around it.

For every `make_private*` call (and `GradSampleModule*(...)` construction) that
`engine_calls` finds, a `TrainingSetup` tells:

    model, optimizer, criterion, train_loader = privacy_engine.make_private(
        module=model, optimizer=optimizer, data_loader=train_loader,
        criterion=nn.CrossEntropyLoss(), grad_sample_mode="ghost", clipping="flat")

- the settings (`grad_sample_mode`, `loss_reduction`, `clipping`, `poisson_sampling`): literals,
  Opacus' defaults when absent, UNKNOWN when not resolvable;
- the argument expressions (`module`, `optimizer`, `data_loader`, `criterion`) and, for the
  criterion, what it is (`CriterionKind`: a loss module, a function, a lambda, UNKNOWN);
- the names bound to what it returns (3 or 4 targets; None where the result is not unpacked);
- the statements of the same function before and after it, and the loops after it.

Static only: nothing of the user's code is imported. Whatever dp-lint cannot read is UNKNOWN
(or None for an absent expression), and UNKNOWN never produces a finding.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from enum import Enum

import libcst as cst

from dp_lint.analysis.constants import ConstantEvaluator, literal
from dp_lint.analysis.engine_calls import EngineCall, GradSampleMode
from dp_lint.analysis.index import FunctionInfo, ModuleInfo, ProjectIndex
from dp_lint.analysis.objects import Values
from dp_lint.analysis.values import UNKNOWN, Constant, Unknown
from dp_lint.files.syntax import (
    assignments_in,
    blocks,
    calls_in,
    dotted_name,
    enclosing,
    keyword_argument,
    walk_statements,
)

# make_private's parameters in order (opacus 1.6.0 `PrivacyEngine.make_private`), keyword-only there.
_ROLES = ("module", "optimizer", "criterion", "data_loader")


class CriterionKind(str, Enum):
    """What the `criterion=` of an engine call is, as far as the source says."""

    LOSS_MODULE = "loss module"  # `nn.CrossEntropyLoss(...)`, a project nn.Module subclass instance
    FUNCTION = "function"  # `F.cross_entropy`, a `def` of the project
    LAMBDA = "lambda"
    ABSENT = "absent"  # no `criterion=` (Opacus' default `nn.CrossEntropyLoss()` in ghost mode)

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class Criterion:
    """A resolved criterion: its kind, the expression that builds it (the call, the function
    reference, the lambda), and the qualified name of the class or function (None for a lambda)."""

    kind: CriterionKind
    node: cst.BaseExpression | None
    qualname: str | None = None
    # `reduction=` of a loss module: the literal, "mean" when absent, UNKNOWN when unreadable.
    reduction: Constant | Unknown = UNKNOWN


@dataclass(frozen=True)
class TrainingSetup:
    """One engine call and the training script around it (`Project.training_setups`)."""

    engine: EngineCall  # the first EngineCall of this call (alternatives share the rest)
    module: ModuleInfo
    statement: cst.CSTNode  # the statement holding the engine call
    function: cst.FunctionDef | None  # the function it is written in (None: module level)
    # The argument expressions (None: not passed).
    module_arg: cst.BaseExpression | None
    optimizer_arg: cst.BaseExpression | None
    data_loader_arg: cst.BaseExpression | None
    criterion_arg: cst.BaseExpression | None
    # Settings: literals, Opacus' defaults when absent, UNKNOWN when not resolvable.
    clipping: Constant | Unknown
    poisson_sampling: Constant | Unknown
    # The names the result is unpacked into, in order, as written (`"model"`, `"self.criterion"`;
    # None for a target that is neither a name nor an attribute chain);
    # None when the result is not unpacked into a tuple (one name, an attribute, no assignment).
    targets: tuple[str | None, ...] | None
    # Statements of the same function (or module) in source order, nested blocks included.
    before: tuple[cst.CSTNode, ...] = ()
    after: tuple[cst.CSTNode, ...] = ()
    # Local assignments of that function (or module): name -> every value assigned to it.
    scope: dict[str, list[cst.BaseExpression]] = field(default_factory=dict, compare=False, hash=False)
    # The project's value analysis: settings and `reduction=` read from configs, argparse, helpers.
    values: Values | None = field(default=None, compare=False, hash=False, repr=False)

    @property
    def grad_sample_mode(self) -> GradSampleMode | str | Unknown:
        return self.engine.grad_sample_mode

    @property
    def is_ghost(self) -> bool:
        """A `make_private*` call in ghost mode (literal `grad_sample_mode="ghost"`)."""
        return self.engine.kind.makes_private and self.engine.grad_sample_mode is GradSampleMode.GHOST

    @property
    def target_count(self) -> int | None:
        """How many names the result is unpacked into (3 or 4), None when not unpacked."""
        return None if self.targets is None else len(self.targets)

    def returned(self, role: str) -> str | None:
        """The name bound to the returned `module`, `optimizer`, `criterion` or `data_loader`
        (make_private returns the criterion only in ghost mode); None when unknown."""
        if self.targets is None or not self.engine.kind.makes_private:
            return None
        roles = list(_ROLES) if self.is_ghost and len(self.targets) == 4 else \
            [r for r in _ROLES if r != "criterion"] if not self.is_ghost and len(self.targets) == 3 else None
        if roles is None or role not in roles:
            return None
        return self.targets[roles.index(role)]

    def argument(self, role: str) -> cst.BaseExpression | None:
        return {"module": self.module_arg, "optimizer": self.optimizer_arg,
                "data_loader": self.data_loader_arg, "criterion": self.criterion_arg}[role]

    def argument_name(self, role: str) -> str | None:
        """The (dotted) name passed as `role` (`data_loader=train_loader` -> "train_loader",
        `module=self.model` -> "self.model"); None for another expression or when absent."""
        return dotted_name(self.argument(role))

    def loops_after(self) -> Iterator[cst.For | cst.While]:
        """The `for`/`while` loops after the engine call in the same function."""
        for stmt in self.after:
            if isinstance(stmt, (cst.For, cst.While)):
                yield stmt

    def calls_after(self) -> Iterator[cst.Call]:
        """Calls in the statements after the engine call (own expressions only, each once)."""
        for stmt in self.after:
            yield from _own_calls(stmt)

    def calls_before(self) -> Iterator[cst.Call]:
        for stmt in self.before:
            yield from _own_calls(stmt)

    def assigned_after(self, name: str) -> bool:
        """Is `name` assigned again after the engine call (or bound by a `for`/`with`)?"""
        return any(_binds(stmt, name) for stmt in self.after)

    def backward_calls_of(self, callee: str) -> Iterator[cst.Call]:
        """Calls of `callee` (a dotted name: `"criterion"`, `"self.loss_fn"`) whose result reaches a
        `.backward()` in the same function: after the engine call in its function, and, for a
        `self.` name, anywhere in the other methods of the class the engine call is written in."""
        for statements in self._statements_using(callee):
            yield from _backward_calls(statements, callee)

    def backward_calls(self) -> Iterator[cst.Call]:
        """Every call whose value reaches a `.backward()` after the engine call in its function
        (the loss computations: `criterion(out, y)`, `F.cross_entropy(...)`, `model(x)`)."""
        yield from _backward_calls(self.after, None)

    def _statements_using(self, name: str) -> list[Sequence[cst.CSTNode]]:
        """The statements after the engine call; for a `self.` name also every other method of the class."""
        bodies: list[Sequence[cst.CSTNode]] = [self.after]
        if name.startswith("self.") and self.function is not None:
            cls = enclosing(self.module.file.parents.get(self.function), self.module.file.parents, cst.ClassDef)
            if cls is not None and isinstance(cls.body, cst.IndentedBlock):
                for stmt in cls.body.body:
                    if isinstance(stmt, cst.FunctionDef) and stmt is not self.function:
                        bodies.append(list(walk_statements(_body(stmt))))
        return bodies

    def training_loops_over(self, name: str) -> Iterator[cst.For]:
        """`for` loops over `name` (also `enumerate(name)`, `tqdm(name)`) whose body calls
        `.backward()` or `.step()`: after the engine call, and for a `self.` name in the other
        methods of the class."""
        for statements in self._statements_using(name):
            for stmt in statements:
                if isinstance(stmt, cst.For) and _iterates(stmt.iter, name) and _trains(stmt):
                    yield stmt

    def helper_training_loops(self, name: str, index: ProjectIndex,
                              ) -> Iterator[tuple[cst.Arg, FunctionInfo, cst.For]]:
        """Calls after the engine call of a module-level project function that receive `name` and
        the private model or optimizer (`train_one_epoch(model, train_loader, optimizer)`), with
        the training loop (as `training_loops_over`) that iterates the parameter `name` binds.
        A parameter the function rebinds is not followed."""
        private = {n for n in (self.returned("module"), self.returned("optimizer")) if n is not None}
        for call in self.calls_after():
            passed = {dotted_name(a.value) for a in call.args}
            if not private & passed or name not in passed:
                continue
            func_name = dotted_name(call.func)
            if func_name is None or not self.module.binds(func_name):
                continue
            qualname = self.module.resolve_expr(call.func)
            function = index.lookup_function(qualname) if qualname else None
            if function is None or any(a.star for a in call.args):
                continue
            params = [p.name.value for p in (*function.node.params.posonly_params, *function.node.params.params)]
            body = _body(function.node)
            rebound = assignments_in(body)
            for position, arg in enumerate(a for a in call.args):
                if dotted_name(arg.value) != name:
                    continue
                param = arg.keyword.value if arg.keyword is not None else (
                    params[position] if position < len(params) else None)
                if param is None or param in rebound:
                    continue
                loop = next((stmt for stmt in walk_statements(body) if isinstance(stmt, cst.For)
                             and _iterates(stmt.iter, param) and _trains(stmt)), None)
                if loop is not None:
                    yield arg, function, loop

    def criterion(self, index: ProjectIndex) -> Criterion | Unknown:
        """What `criterion=` is; UNKNOWN when it cannot be read."""
        if self.criterion_arg is None:
            if any(a.star == "**" for a in self.engine.node.args):
                return UNKNOWN
            return Criterion(CriterionKind.ABSENT, None)
        return resolve_criterion(self.criterion_arg, self.module, index, self.scope, self.function, values=self.values)


def find_training_setups(index: ProjectIndex, engines: Sequence[EngineCall],
                         values: Values | None = None) -> list[TrainingSetup]:
    """One TrainingSetup per engine call node (alternatives of one call share it)."""
    seen: set[int] = set()
    found: list[TrainingSetup] = []
    modules = {m.file.path: m for m in index.by_file.values()}
    for engine in engines:
        if id(engine.node) in seen:
            continue
        seen.add(id(engine.node))
        module = modules.get(engine.file.path)
        if module is None:
            continue
        setup = _setup(engine, module, values)
        if setup is not None:
            found.append(setup)
    return found


def _setup(engine: EngineCall, module: ModuleInfo, values: Values | None = None) -> TrainingSetup | None:
    parents = engine.file.parents
    statement = enclosing(engine.node, parents, (cst.SimpleStatementLine, cst.BaseCompoundStatement))
    if statement is None:
        return None
    function = enclosing(parents.get(statement), parents, cst.FunctionDef)
    body: Sequence[cst.CSTNode]
    if function is None:
        body = engine.file.module.body
    else:
        body = function.body.body if isinstance(function.body, cst.IndentedBlock) else []
    ordered = list(walk_statements(body))
    position = next((i for i, s in enumerate(ordered) if s is statement), None)
    if position is None:
        return None
    call = engine.node
    scope = assignments_in(body)
    positional = [a.value for a in call.args if a.keyword is None and not a.star]
    module_arg = keyword_argument(call, "module")
    if module_arg is None and not engine.kind.makes_private:
        module_arg = keyword_argument(call, "m") or (positional[0] if positional else None)
    return TrainingSetup(
        engine=engine, module=module, statement=statement, function=function,
        module_arg=module_arg,
        optimizer_arg=keyword_argument(call, "optimizer"),
        data_loader_arg=keyword_argument(call, "data_loader"),
        criterion_arg=keyword_argument(call, "criterion"),
        clipping=_setting(call, "clipping", "flat", module, scope, values),
        poisson_sampling=_setting(call, "poisson_sampling", True, module, scope, values),
        targets=_targets(statement, call),
        before=tuple(ordered[:position]),
        after=tuple(s for s in ordered[position + 1:] if not _inside(s, statement)),
        scope=scope,
        values=values,
    )


def _body(function: cst.FunctionDef) -> Sequence[cst.BaseStatement]:
    return function.body.body if isinstance(function.body, cst.IndentedBlock) else []


def _iterates(expr: cst.BaseExpression, name: str) -> bool:
    if dotted_name(expr) == name:
        return True
    if isinstance(expr, cst.Call) and (dotted_name(expr.func) or "").rsplit(".", 1)[-1] in ("enumerate", "tqdm", "iter"):
        return bool(expr.args) and dotted_name(expr.args[0].value) == name
    return False


def _trains(loop: cst.For) -> bool:
    """Does the loop body call `.backward()` or `.step()`?"""
    return any(isinstance(c.func, cst.Attribute) and c.func.attr.value in ("backward", "step") for c in calls_in(loop.body))


def _backward_calls(statements: Sequence[cst.CSTNode], callee: str | None) -> Iterator[cst.Call]:
    """Calls of `callee` (None: any) in `statements` whose value is `.backward()`-ed: `callee(...).backward()`,
    or `loss = <expression with callee(...)>` followed by `loss.backward()` among the statements."""
    backward_of: set[str] = set()
    for stmt in statements:
        for call in _own_calls(stmt):
            func = call.func
            if isinstance(func, cst.Attribute) and func.attr.value == "backward":
                name = dotted_name(func.value)
                if name:
                    backward_of.add(name)
                for inner in calls_in(func.value):
                    if callee is None or dotted_name(inner.func) == callee:
                        yield inner
    for stmt in statements:
        if not isinstance(stmt, cst.SimpleStatementLine):
            continue
        for small in stmt.body:
            if isinstance(small, (cst.Assign, cst.AugAssign, cst.AnnAssign)) and small.value is not None:
                targets = [t.target for t in small.targets] if isinstance(small, cst.Assign) else [small.target]
                if any(dotted_name(t) in backward_of for t in targets):
                    for inner in calls_in(small.value):
                        if callee is None or dotted_name(inner.func) == callee:
                            yield inner


def _inside(stmt: cst.CSTNode, container: cst.CSTNode) -> bool:
    if stmt is container:
        return True
    return any(_inside_block(block, stmt) for block in blocks(container))


def _inside_block(block: Sequence[cst.CSTNode], target: cst.CSTNode) -> bool:
    return any(s is target for s in walk_statements(block))


def _setting(call: cst.Call, keyword: str, default: Constant, module: ModuleInfo,
             scope: dict[str, list[cst.BaseExpression]], values: Values | None = None) -> Constant | Unknown:
    value = keyword_argument(call, keyword)
    if value is None:
        return UNKNOWN if any(a.star == "**" for a in call.args) else default

    def assigned_once(name: str, depth: int) -> object:
        candidates = scope.get(name) or []
        values = {literal(v, module) for v in candidates}
        return values.pop() if len(values) == 1 and UNKNOWN not in values else UNKNOWN

    result = ConstantEvaluator(module, names=assigned_once).evaluate(value)
    if result is UNKNOWN and values is not None:
        # A config attribute, an argparse default, a value returned by a project function.
        result = values.at(module, call).evaluate(value)
    return result if isinstance(result, (bool, int, float, str, bytes)) or result is None else UNKNOWN


def _targets(statement: cst.CSTNode, call: cst.Call) -> tuple[str | None, ...] | None:
    """The names `a, b, c = <call>` binds, when the call is the whole assigned value."""
    if not isinstance(statement, cst.SimpleStatementLine):
        return None
    for small in statement.body:
        if isinstance(small, cst.Assign) and small.value is call and len(small.targets) == 1:
            target = small.targets[0].target
            if isinstance(target, (cst.Tuple, cst.List)):
                if any(isinstance(e, cst.StarredElement) for e in target.elements):
                    return None
                return tuple(dotted_name(e.value) for e in target.elements)
    return None


def _own_calls(stmt: cst.CSTNode) -> Iterator[cst.Call]:
    if isinstance(stmt, cst.SimpleStatementLine):
        yield from calls_in(stmt)
    elif isinstance(stmt, (cst.If, cst.While)):
        yield from calls_in(stmt.test)
    elif isinstance(stmt, cst.For):
        yield from calls_in(stmt.iter)
    elif isinstance(stmt, cst.With):
        for item in stmt.items:
            yield from calls_in(item.item)


def _binds(stmt: cst.CSTNode, name: str) -> bool:
    targets: list[cst.BaseExpression] = []
    if isinstance(stmt, cst.SimpleStatementLine):
        for small in stmt.body:
            if isinstance(small, cst.Assign):
                targets.extend(t.target for t in small.targets)
            elif isinstance(small, (cst.AnnAssign, cst.AugAssign)):
                targets.append(small.target)
    elif isinstance(stmt, cst.For):
        targets.append(stmt.target)
    elif isinstance(stmt, cst.With):
        targets.extend(item.asname.name for item in stmt.items if item.asname is not None)
    return any(_names_in(t, name) for t in targets)


def _names_in(target: cst.BaseExpression, name: str) -> bool:
    if isinstance(target, cst.Name):
        return target.value == name
    if isinstance(target, (cst.Tuple, cst.List)):
        return any(_names_in(e.value, name) for e in target.elements)
    if isinstance(target, cst.StarredElement):
        return _names_in(target.value, name)
    return False


# -- criteria -------------------------------------------------------------------------

_TORCH_FUNCTIONAL = "torch.nn.functional."
_TORCH_LOSSES = "torch.nn."


def resolve_criterion(expr: cst.BaseExpression, module: ModuleInfo, index: ProjectIndex,
                      scope: dict[str, list[cst.BaseExpression]], function: cst.FunctionDef | None,
                      depth: int = 0, values: Values | None = None) -> Criterion | Unknown:
    """What a criterion expression is: a loss module instance, a function, a lambda; UNKNOWN
    when the source does not say (a parameter, a name assigned different things, a call of an
    unknown factory)."""
    if depth > 6:
        return UNKNOWN
    if isinstance(expr, cst.Lambda):
        return Criterion(CriterionKind.LAMBDA, expr)
    if isinstance(expr, cst.Name):
        candidates = scope.get(expr.value) if function is not None else None
        if candidates is None:
            if function is not None and expr.value in {p.name.value for p in _params(function)}:
                return UNKNOWN
            value = module.assignments.get(expr.value)
            if value is not None:
                return resolve_criterion(value, module, index, {}, None, depth + 1, values)
        elif len(candidates) == 1 and candidates[0] is not expr:
            return resolve_criterion(candidates[0], module, index, scope, function, depth + 1, values)
        elif candidates:
            return UNKNOWN
    if isinstance(expr, cst.Call):
        qualname = module.resolve_expr(expr.func) if dotted_name(expr.func) else None
        if qualname is None:
            return UNKNOWN
        cls = index.lookup_class(qualname)
        is_torch_loss = qualname.startswith(_TORCH_LOSSES) and qualname.endswith("Loss") \
            and not qualname.startswith(_TORCH_FUNCTIONAL)
        if is_torch_loss or cls is not None:
            if cls is not None and not any(b.startswith("torch.nn") or b.endswith("Loss") for b in cls.base_names):
                return UNKNOWN
            reduction: Constant | Unknown = "mean"
            value = keyword_argument(expr, "reduction")
            if value is not None:
                reduction = literal(value, module)
                if reduction is UNKNOWN and values is not None:
                    # `reduction=args.loss_reduction`, a config field, a helper's parameter
                    read = values.at(module, value).evaluate(value)
                    reduction = read if isinstance(read, str) else UNKNOWN
            elif any(a.star for a in expr.args) or cls is not None:
                reduction = UNKNOWN
            return Criterion(CriterionKind.LOSS_MODULE, expr, qualname, reduction)
        name = dotted_name(expr.func)
        factory = index.lookup_function(qualname) if name is not None and module.binds(name) else None
        if factory is not None and values is not None:
            # `criterion = build_criterion(cfg)`: the loss its single `return` builds (or the
            # function it returns, `return F.cross_entropy`)
            returned = _single_return(factory.node)
            if isinstance(returned, (cst.Call, cst.Lambda)) or (returned is not None and dotted_name(returned)):
                body = factory.node.body.body if isinstance(factory.node.body, cst.IndentedBlock) else []
                return resolve_criterion(returned, factory.module, index, assignments_in(body), factory.node,
                                         depth + 1, values)
        return UNKNOWN
    name = dotted_name(expr)
    if name is not None:
        qualname = module.resolve_expr(expr)
        if qualname is None:
            return UNKNOWN
        if qualname.startswith(_TORCH_FUNCTIONAL) or qualname in _TORCH_FUNCTIONS:
            return Criterion(CriterionKind.FUNCTION, expr, qualname)
        if index.lookup_function(qualname) is not None:
            return Criterion(CriterionKind.FUNCTION, expr, qualname)
    return UNKNOWN


# Loss functions of the `torch` namespace (not under torch.nn.functional).
_TORCH_FUNCTIONS = frozenset({"torch.nn.functional.cross_entropy", "torch.nn.functional.mse_loss"})


def _single_return(function: cst.FunctionDef) -> cst.BaseExpression | None:
    body = function.body.body if isinstance(function.body, cst.IndentedBlock) else []
    returns = [small for stmt in walk_statements(body) if isinstance(stmt, cst.SimpleStatementLine)
               for small in stmt.body if isinstance(small, cst.Return)]
    return returns[0].value if len(returns) == 1 else None


def _params(function: cst.FunctionDef) -> list[cst.Param]:
    p = function.params
    return [*p.posonly_params, *p.params, *p.kwonly_params]


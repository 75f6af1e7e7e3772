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
    argument,
    assignments_in,
    bind_call,
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
    # `wrap_model=` of a `make_private*` call (default True; UNKNOWN when not resolvable).
    wrap_model: Constant | Unknown = True

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

    def setting(self, keyword: str) -> Constant | Unknown:
        """The value of the engine call's `keyword=` argument (`"epochs"`, `"target_epsilon"`): a literal, or
        read by the project's value analysis (config fields, argparse defaults); None when absent, `UNKNOWN`
        when not resolvable (or absent beside a `**kwargs`)."""
        return _setting(self.engine.node, keyword, None, self.module, self.scope, self.values)

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
                        bodies.append(list(walk_statements(function_body(stmt))))
        return bodies

    def training_loops_over(self, name: str) -> Iterator[cst.For]:
        """`for` loops over `name` (also `enumerate(name)`, `tqdm(name)`) whose body calls
        `.backward()` or `.step()`: after the engine call, and for a `self.` name in the other
        methods of the class."""
        for statements in self._statements_using(name):
            for stmt in statements:
                if isinstance(stmt, cst.For) and _iterates(stmt.iter, name) and _trains(stmt):
                    yield stmt

    def loss_scalings(self, index: ProjectIndex) -> list[LossScaling]:
        """Every `scaler.scale(loss)` whose value reaches `.backward()` in the training after the
        engine call (its function, the class's other methods, and project functions it calls with
        names as arguments), where `scaler` is a torch `GradScaler` the source builds enabled."""
        return list(_loss_scalings(self, index))

    def validator_fix_after_optimizer(self, index: ProjectIndex) -> FixAfterOptimizer | None:
        """The optimizer given to the engine was built from a model's parameters, and
        `ModuleValidator.fix` (which returns a copy) replaced that model afterwards, before the
        engine call; None when not, or when the source does not say."""
        return _fix_after_optimizer(self, index)

    def eval_mode_training(self, index: ProjectIndex) -> list[EvalModeTraining]:
        """The training loops after a `make_private*` call that run the private model in eval mode:
        entered after a `.eval()` of it, or switching it to eval (directly, or in a project function or
        method it is passed to) without a `.train()` in the loop; none where a model goes to code
        dp-lint cannot read."""
        return list(_eval_mode_training(self, index))

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
            body = function_body(function.node)
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

    def hooks_used_as_model(self, index: ProjectIndex) -> list[HooksAsModel]:
        """After a `make_private*(..., wrap_model=False)` call (resolved False), the uses of its first
        returned name as a model (called, `.train()`, `.eval()`, `.parameters()`, `.to()`, `.state_dict()`):
        in the statements after the call up to the name's next binding, the other methods of the class for a
        `self.` name, and project functions it is passed to (one level); none when `wrap_model` is not
        certainly False or the first result is not bound to a name."""
        return list(_hooks_used_as_model(self, index))

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
        wrap_model=_setting(call, "wrap_model", True, module, scope, values) if engine.kind.makes_private else True,
        targets=_targets(statement, call),
        before=tuple(ordered[:position]),
        after=tuple(s for s in ordered[position + 1:] if not statement_inside(s, statement)),
        scope=scope,
        values=values,
    )


def function_body(function: cst.FunctionDef) -> Sequence[cst.BaseStatement]:
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


def statement_inside(stmt: cst.CSTNode, container: cst.CSTNode) -> bool:
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
    if isinstance(target, cst.Attribute):  # `self.model = ...` rebinds `self.model`
        return dotted_name(target) == name
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



# -- the training after the engine call, through methods and helpers --------------------


@dataclass(frozen=True)
class _Body:
    """Statements that run in the training after an engine call, and where their names come from."""

    statements: Sequence[cst.CSTNode]
    module: ModuleInfo
    scope: dict[str, list[cst.BaseExpression]]  # the local assignments there
    # A project function called after the engine call: parameter -> the caller's dotted name.
    passed: dict[str, str]


def enclosing_class(setup: TrainingSetup) -> cst.ClassDef | None:
    if setup.function is None:
        return None
    return enclosing(setup.module.file.parents.get(setup.function), setup.module.file.parents, cst.ClassDef)


def class_methods(cls: cst.ClassDef | None) -> list[cst.FunctionDef]:
    if cls is None or not isinstance(cls.body, cst.IndentedBlock):
        return []
    return [stmt for stmt in cls.body.body if isinstance(stmt, cst.FunctionDef)]


def _training_bodies(setup: TrainingSetup, index: ProjectIndex) -> Iterator[_Body]:
    yield _Body(setup.after, setup.module, setup.scope, {})
    for method in class_methods(enclosing_class(setup)):
        if method is not setup.function:
            yield _Body(list(walk_statements(function_body(method))), setup.module, assignments_in(function_body(method)), {})
    seen: set[int] = set()
    for call in setup.calls_after():
        name = dotted_name(call.func)
        qualname = setup.module.resolve_expr(call.func) if name and "." not in name else None
        helper = index.lookup_function(qualname) if qualname else None
        if helper is None or helper.node is setup.function or id(helper.node) in seen:
            continue
        seen.add(id(helper.node))
        bound = bind_call(helper.node, call, dotted_name, lambda param: None)
        passed = {param: caller for param, caller in bound.items() if caller is not None}
        yield _Body(list(walk_statements(function_body(helper.node))), helper.module, assignments_in(function_body(helper.node)), passed)


def _self_assignments(cls: cst.ClassDef | None) -> dict[str, list[cst.BaseExpression]]:
    """`self.x = value` in every method of `cls`: "self.x" -> the values."""
    found: dict[str, list[cst.BaseExpression]] = {}
    for method in class_methods(cls):
        for stmt in walk_statements(function_body(method)):
            if isinstance(stmt, cst.SimpleStatementLine):
                for small in stmt.body:
                    if isinstance(small, (cst.Assign, cst.AnnAssign)) and small.value is not None:
                        targets = [t.target for t in small.targets] if isinstance(small, cst.Assign) else [small.target]
                        for target in targets:
                            name = dotted_name(target)
                            if name is not None and name.startswith("self."):
                                found.setdefault(name, []).append(small.value)
                            elif isinstance(target, (cst.Tuple, cst.List)):
                                for element in target.elements:  # `self.a, self.b = f()`: unknown values
                                    inner = dotted_name(element.value)
                                    if inner is not None:
                                        found.setdefault(inner, []).append(element.value)
    return found


# -- loss scalers ----------------------------------------------------------------------

# torch's loss scalers, and the position of `enabled` among their positional parameters
# (torch 2.13: `torch.amp.GradScaler(device, init_scale, growth_factor, backoff_factor,
# growth_interval, enabled)`; the deprecated `torch.cuda.amp`/`torch.cpu.amp` ones have no `device`).
_GRAD_SCALERS = {
    "torch.amp.GradScaler": 5, "torch.amp.grad_scaler.GradScaler": 5, "torch.GradScaler": 5,
    "torch.cuda.amp.GradScaler": 4, "torch.cuda.amp.grad_scaler.GradScaler": 4,
    "torch.cpu.amp.GradScaler": 4, "torch.cpu.amp.grad_scaler.GradScaler": 4,
}


@dataclass(frozen=True)
class LossScaling:
    """`scaler.scale(loss)` whose value reaches `.backward()` after an engine call, `scaler` being a
    torch `GradScaler` built enabled (`TrainingSetup.loss_scalings`)."""

    call: cst.Call  # the `scaler.scale(...)` call
    module: ModuleInfo  # the module it is written in (`module.file` to report it)
    scaler: str  # the scaler's name there: "scaler", "self.scaler"
    construction: cst.Call  # `torch.amp.GradScaler("cpu")`
    qualname: str  # "torch.amp.GradScaler"
    # `scaler.step(<the optimizer the engine call returned>)` in the same statements.
    steps_private_optimizer: bool


def _loss_scalings(setup: TrainingSetup, index: ProjectIndex) -> Iterator[LossScaling]:
    if not setup.engine.kind.makes_private:
        return
    optimizer = setup.returned("optimizer")
    attributes = _self_assignments(enclosing_class(setup))
    for body in _training_bodies(setup, index):
        for call in _backward_calls(body.statements, None):
            if not (isinstance(call.func, cst.Attribute) and call.func.attr.value == "scale"):
                continue
            scaler = dotted_name(call.func.value)
            if scaler is None:
                continue
            found = _scaler_construction(scaler, body, setup, attributes)
            if found is None:
                continue
            construction, qualname = found
            steps = optimizer is not None and any(
                isinstance(step.func, cst.Attribute) and step.func.attr.value == "step"
                and dotted_name(step.func.value) == scaler and step.args
                and _caller_name(dotted_name(step.args[0].value), body) == optimizer
                for stmt in body.statements for step in _own_calls(stmt))
            yield LossScaling(call, body.module, scaler, construction, qualname, steps)


def _caller_name(name: str | None, body: _Body) -> str | None:
    """A name of `body` as the engine call's function knows it (a helper's parameter -> the argument)."""
    if name is None:
        return None
    head, _, rest = name.partition(".")
    if head in body.passed:
        return body.passed[head] + ("." + rest if rest else "")
    return name


def _scaler_construction(name: str, body: _Body, setup: TrainingSetup,
                         attributes: dict[str, list[cst.BaseExpression]]) -> tuple[cst.Call, str] | None:
    """The enabled `GradScaler(...)` call `name` holds, or None (not one, disabled, or unknown)."""
    module, values = body.module, None
    if name in body.passed:
        name, module = body.passed[name], setup.module
        values = setup.scope.get(name) if "." not in name else attributes.get(name)
    elif name.startswith("self."):
        values = attributes.get(name) if body.module is setup.module else None
    elif "." not in name:
        values = body.scope.get(name)
        if values is None and name not in body.passed and name in module.assignments:
            values = [module.assignments[name]]
    if not values or len(values) != 1 or not isinstance(values[0], cst.Call):
        return None
    construction = values[0]
    qualname = module.resolve_expr(construction.func) if dotted_name(construction.func) else None
    if qualname not in _GRAD_SCALERS or any(a.star for a in construction.args):
        return None
    enabled = argument(construction, "enabled", _GRAD_SCALERS[qualname])
    if enabled is not None and literal(enabled, module) is not True:
        return None  # disabled (`enabled=False`), or a setting dp-lint cannot read
    return construction, qualname


# -- ModuleValidator.fix after the optimizer was built -----------------------------------

_VALIDATOR_FIXES = frozenset({
    "opacus.validators.ModuleValidator.fix", "opacus.validators.ModuleValidator.fix_and_validate",
    "opacus.validators.module_validator.ModuleValidator.fix",
    "opacus.validators.module_validator.ModuleValidator.fix_and_validate",
    "opacus.ModuleValidator.fix", "opacus.ModuleValidator.fix_and_validate",
})


@dataclass(frozen=True)
class FixAfterOptimizer:
    """`optimizer = SGD(model.parameters())` ... `model = ModuleValidator.fix(model)` ... the engine
    call given both (`TrainingSetup.validator_fix_after_optimizer`)."""

    optimizer: str  # the optimizer's name: "optimizer", "self.optimizer"
    construction: cst.Call  # the call that builds it (a torch.optim class, or a project helper)
    construction_statement: cst.SimpleStatementLine
    owner: str  # the model whose parameters it holds, as named there: "model", "self.model"
    fix_call: cst.Call  # `ModuleValidator.fix(model)`
    fix_statement: cst.SimpleStatementLine
    fixed: str  # the name bound to the fixed copy, passed as `module=`


def _fix_after_optimizer(setup: TrainingSetup, index: ProjectIndex) -> FixAfterOptimizer | None:
    optimizer, model = setup.argument_name("optimizer"), setup.argument_name("module")
    if optimizer is None or model is None or not setup.engine.kind.makes_private:
        return None
    sequence = statements_before_engine(setup, optimizer, model)
    if sequence is None:
        return None
    built = max((i for i, stmt in enumerate(sequence) if assigns(stmt, optimizer)), default=None)
    if built is None:
        return None
    construction = single_assignment(sequence[built], optimizer)
    if construction is None:
        return None
    owners = _parameter_owners(construction, setup.module, index, setup.scope)
    if not owners:
        return None
    for position in range(built + 1, len(sequence)):
        stmt = sequence[position]
        fix = single_assignment(stmt, model)
        if fix is None:
            continue
        qualname = setup.module.resolve_expr(fix.func) if dotted_name(fix.func) else None
        fixed_arg = argument(fix, "module", 0)
        owner = dotted_name(fixed_arg)
        if qualname not in _VALIDATOR_FIXES or owner is None or owner not in owners:
            return None
        if any(assigns(later, name) for later in sequence[position + 1:] for name in (model, optimizer)):
            return None
        built_statement = sequence[built]
        if not isinstance(stmt, cst.SimpleStatementLine) or not isinstance(built_statement, cst.SimpleStatementLine):
            return None  # (both are: _single_assignment accepts nothing else)
        return FixAfterOptimizer(optimizer, construction, built_statement, owner, fix, stmt, model)
    return None


def statements_before_engine(setup: TrainingSetup, optimizer: str, model: str) -> list[cst.CSTNode] | None:
    """The statements that run before the engine call, in order, from where `optimizer` is built: the
    engine call's function, preceded, in a trainer that builds `self.<optimizer>` in `__init__` and
    calls the engine in another method, by `__init__`'s statements. None when the optimizer is
    built nowhere there, or also assigned in another method (the order is unknown)."""
    sequence: list[cst.CSTNode] = list(setup.before)
    if any(assigns(stmt, optimizer) for stmt in sequence):
        return sequence
    cls = enclosing_class(setup)
    init = next((m for m in class_methods(cls) if m.name.value == "__init__"), None)
    if not optimizer.startswith("self.") or init is None or init is setup.function:
        return None
    others = [m for m in class_methods(cls) if m is not init and m is not setup.function]
    if any(assigns(stmt, name) for m in others for stmt in walk_statements(function_body(m)) for name in (optimizer, model)):
        return None
    return [*walk_statements(function_body(init)), *sequence]


def assigns(stmt: cst.CSTNode, name: str) -> bool:
    """Does `stmt` bind the dotted `name` (`x = ...`, `self.x, y = ...`, `for x in`, `with ... as x`)?"""
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

    def binds(target: cst.BaseExpression) -> bool:
        if isinstance(target, (cst.Tuple, cst.List)):
            return any(binds(e.value) for e in target.elements)
        if isinstance(target, cst.StarredElement):
            return binds(target.value)
        return dotted_name(target) == name

    return any(binds(t) for t in targets)


def single_assignment(stmt: cst.CSTNode, name: str) -> cst.Call | None:
    """The call of `name = <call>` when `stmt` is that one assignment."""
    if not isinstance(stmt, cst.SimpleStatementLine) or len(stmt.body) != 1:
        return None
    small = stmt.body[0]
    if isinstance(small, cst.Assign) and len(small.targets) == 1 and dotted_name(small.targets[0].target) == name \
            and isinstance(small.value, cst.Call):
        return small.value
    return None


def _parameter_owners(construction: cst.Call, module: ModuleInfo, index: ProjectIndex,
                      scope: dict[str, list[cst.BaseExpression]], depth: int = 0) -> set[str]:
    """The dotted names whose parameters an optimizer construction holds: `SGD(model.fc.parameters())`
    -> {"model", "model.fc"} (also through local names: `decay = [p for p in model.parameters()]`,
    `AdamW([{"params": decay}])`); through a project function returning such a construction, named as
    the caller passes them. Empty when the call builds no torch optimizer dp-lint can read."""
    qualname = module.resolve_expr(construction.func) if dotted_name(construction.func) else None
    if qualname is None or depth > 2:
        return set()
    if qualname.startswith("torch.optim."):
        owners: set[str] = set()
        sources: list[cst.CSTNode] = [arg.value for arg in construction.args]
        for arg in construction.args:
            for name in _names_below(arg.value):
                values = scope.get(name) or []
                if len(values) == 1:
                    sources.append(values[0])
        for source in sources:
            for call in calls_in(source):
                if isinstance(call.func, cst.Attribute) and call.func.attr.value in ("parameters", "named_parameters"):
                    held = dotted_name(call.func.value)
                    parts = held.split(".") if held else []
                    owners.update(".".join(parts[:i]) for i in range(1, len(parts) + 1))
        return owners
    helper = index.lookup_function(qualname)
    returns = [s for s in walk_statements(function_body(helper.node)) if isinstance(s, cst.SimpleStatementLine)
               for s in s.body if isinstance(s, cst.Return)] if helper is not None else []
    if helper is None or len(returns) != 1 or not isinstance(returns[0].value, cst.Call):
        return set()
    inner = _parameter_owners(returns[0].value, helper.module, index, assignments_in(function_body(helper.node)), depth + 1)
    bound = bind_call(helper.node, construction, dotted_name, lambda param: None)
    owners = set()
    for name in inner:
        head, _, rest = name.partition(".")
        caller = bound.get(head)
        if caller is not None:
            owners.add(caller + ("." + rest if rest else ""))
    return owners


def _names_below(node: cst.CSTNode) -> Iterator[str]:
    """The plain names read below `node` (not attribute names)."""
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, cst.Name):
            yield current.value
        elif isinstance(current, cst.Attribute):
            stack.append(current.value)
        else:
            stack.extend(current.children)


# -- an engine call repeated on one model ------------------------------------------------

# Calls on the returned module that take Opacus' hooks off the model (measured: make_private on the
# raw model works again afterwards), or hand back the raw model.
_UNHOOKING = frozenset({"remove_hooks", "_close", "to_standard_module"})


@dataclass(frozen=True)
class RepeatedEngineCall:
    """A `make_private*` call given a model that an engine call before it already hooked
    (`repeated_engine_calls`): the same name, not bound again in between."""

    setup: TrainingSetup  # the call that raises
    model: str  # the name passed as `module=`
    earlier: TrainingSetup | None  # the earlier call in the same function; None: the call repeats in `loop`
    loop: cst.For | cst.While | None
    # The loop runs at least twice: True (`range(n)`, n >= 2, literal), None (not known); always True
    # for an earlier call. Where the source shows at most one round there is no RepeatedEngineCall.
    repeats: bool | None
    # The second call is in the same block as the first (not under an `if` of its own).
    unconditional: bool


def repeated_engine_calls(setups: Sequence[TrainingSetup]) -> list[RepeatedEngineCall]:
    """Each `make_private*` call that wraps a model already wrapped by an earlier call: in a loop that
    does not bind the model's name again, or after another engine call of the same function on the
    same name. A name bound again (`model, optimizer, loader = engine.make_private(module=model, ...)`,
    `model = Net()`), a loop that may stop after one round (`return`, `break`) and a call that takes
    the hooks off (`remove_hooks()`) give no answer."""
    found: list[RepeatedEngineCall] = []
    private = [s for s in setups if s.engine.kind.makes_private]
    for setup in private:
        model = setup.argument_name("module")
        if model is None:
            continue
        loop = _enclosing_loop(setup)
        if loop is not None:
            repeats = _repeats(loop, setup.module)
            body = list(walk_statements(_loop_body(loop)))
            if repeats is not False and not _exits(loop) and not _unhooks(body) \
                    and not any(assigns(stmt, model) for stmt in [loop, *body]):
                found.append(RepeatedEngineCall(setup, model, None, loop, repeats, True))
                continue
        for earlier in private:
            if earlier is setup or earlier.function is not setup.function or earlier.module is not setup.module:
                continue
            if earlier.argument_name("module") != model or setup.statement not in earlier.after:
                continue
            placed = _same_block_after(earlier.statement, setup.statement, setup.module.file.parents)
            if placed is None:
                continue
            between = earlier.after[:earlier.after.index(setup.statement)]
            if assigns(earlier.statement, model) or any(assigns(s, model) for s in between) or _unhooks(between):
                continue
            found.append(RepeatedEngineCall(setup, model, earlier, None, True, placed))
            break
    return found


def _enclosing_loop(setup: TrainingSetup) -> cst.For | cst.While | None:
    parents = setup.module.file.parents
    node = parents.get(setup.statement)
    while node is not None and node is not setup.function:
        if isinstance(node, (cst.For, cst.While)):
            return node
        if isinstance(node, (cst.FunctionDef, cst.ClassDef)):
            return None
        node = parents.get(node)
    return None


def _loop_body(loop: cst.For | cst.While) -> Sequence[cst.BaseStatement]:
    return loop.body.body if isinstance(loop.body, cst.IndentedBlock) else []


def _repeats(loop: cst.For | cst.While, module: ModuleInfo) -> bool | None:
    """Does the loop run at least twice: True/False where `range(...)` of literals or a list or tuple
    display (`for lr in [0.1, 0.01]`) says, else None."""
    if isinstance(loop, cst.For) and isinstance(loop.iter, (cst.List, cst.Tuple)):
        if any(isinstance(e, cst.StarredElement) for e in loop.iter.elements):
            return None
        return len(loop.iter.elements) >= 2
    if not isinstance(loop, cst.For) or not isinstance(loop.iter, cst.Call) or dotted_name(loop.iter.func) != "range":
        return None
    bounds = [literal(a.value, module) for a in loop.iter.args]
    if not bounds or len(bounds) > 2 or any(a.star or a.keyword for a in loop.iter.args) \
            or not all(isinstance(b, int) and not isinstance(b, bool) for b in bounds):
        return None
    numbers = [b for b in bounds if isinstance(b, int)]
    start, stop = (0, numbers[0]) if len(numbers) == 1 else (numbers[0], numbers[1])
    return stop - start >= 2


def _exits(loop: cst.For | cst.While) -> bool:
    """Can the loop stop after its first round: a `return`, or a `break` of this loop (not of a loop inside it)?"""
    stack: list[tuple[cst.CSTNode, bool]] = [(child, False) for child in _loop_body(loop)]
    while stack:
        node, nested = stack.pop()
        if isinstance(node, cst.Return) or (isinstance(node, cst.Break) and not nested):
            return True
        if isinstance(node, (cst.FunctionDef, cst.ClassDef, cst.Lambda)):
            continue
        inner = nested or isinstance(node, (cst.For, cst.While))
        stack.extend((child, inner) for child in node.children)
    return False


def _unhooks(statements: Sequence[cst.CSTNode]) -> bool:
    return any(isinstance(call.func, cst.Attribute) and call.func.attr.value in _UNHOOKING
               for stmt in statements for call in _own_calls(stmt))


def _same_block_after(first: cst.CSTNode, second: cst.CSTNode, parents) -> bool | None:
    """Is `second` (or the compound statement holding it) in `first`'s block after it? True when
    `second` itself is, False when it is nested in a later statement, None when it is elsewhere (another
    branch)."""
    block = parents.get(first)
    node, nested = second, False
    while node is not None and parents.get(node) is not block:
        node, nested = parents.get(node), True
    if node is None:
        return None
    body = list(getattr(block, "body", ()))
    if node not in body or first not in body or body.index(node) <= body.index(first):
        return None
    return not nested


# -- eval mode in the training ----------------------------------------------------------


@dataclass(frozen=True)
class EvalModeTraining:
    """A training loop after an engine call that runs the private model in eval mode
    (`TrainingSetup.eval_mode_training`)."""

    eval_call: cst.Call  # the `model.eval()` (`.train(False)`), or the call of the helper that does it
    module: ModuleInfo  # where that call is written
    model: str  # the model's name there
    through: str | None  # the project function or method that switches to eval (`evaluate`), None: directly
    loop: cst.For | cst.While  # the training loop (its function's name for the model: `setup.returned("module")`)
    # "entry": the model is in eval mode when the loop starts (its first backward fails); "round": the
    # loop itself switches to eval and never back, so its next round fails.
    when: str
    repeats: bool | None  # for "round": does the loop run twice (True: `range(n >= 2)`; None: unknown)


@dataclass(frozen=True)
class _Mode:
    mode: str  # "eval", "train", "unknown"
    call: cst.Call | None
    module: ModuleInfo | None
    name: str | None
    through: str | None = None


def _eval_mode_training(setup: TrainingSetup, index: ProjectIndex) -> Iterator[EvalModeTraining]:
    if not setup.engine.kind.makes_private:
        return
    names = {n for n in (setup.argument_name("module"), setup.returned("module")) if n is not None}
    if not names or any(setup.assigned_after(n) for n in names if "." not in n):
        return
    methods = {m.name.value: m for m in class_methods(enclosing_class(setup))}
    loops = [s for s in setup.after if isinstance(s, (cst.For, cst.While))]
    state = _Mode("train", None, None, None)  # make_private refuses a model in eval mode
    for stmt in setup.after:
        if any(stmt is not loop and statement_inside(stmt, loop) for loop in loops):
            continue  # inside a loop, which counts as a whole
        if isinstance(stmt, (cst.For, cst.While)):
            inside = list(mode_changes(stmt, names, setup.module, index, methods, 0))
            if any(m.mode == "unknown" for m in inside):
                return
            if _trains_model(stmt, names, setup.module, index, methods) and not any(m.mode == "train" for m in inside):
                if state.mode == "eval":
                    yield EvalModeTraining(state.call, state.module, state.name, state.through, stmt, "entry", None)  # type: ignore[arg-type]
                    return
                evals = [m for m in inside if m.mode == "eval"]
                repeats = _repeats(stmt, setup.module)
                if evals and repeats is not False and not _exits(stmt):
                    first = evals[0]
                    yield EvalModeTraining(first.call, first.module, first.name, first.through, stmt, "round", repeats)  # type: ignore[arg-type]
                    return
            state = inside[-1] if inside else state
        elif isinstance(stmt, cst.SimpleStatementLine):
            events = list(mode_changes(stmt, names, setup.module, index, methods, 0))
            if any(m.mode == "unknown" for m in events):
                return
            state = events[-1] if events else state


def eval_mode_at_engine_call(setup: TrainingSetup, index: ProjectIndex) -> cst.Call | None:
    """The `model.eval()` (or `.train(False)`, directly or in a project function `model` is passed to)
    that leaves the model given to `make_private*` in eval mode at the call; None when the last mode
    change before it is `.train()`, when there is none, or when the model is bound again after it."""
    model = setup.argument_name("module")
    if model is None or not setup.engine.kind.makes_private:
        return None
    methods = {m.name.value: m for m in class_methods(enclosing_class(setup))}
    sequence: list[cst.CSTNode] = list(setup.before)
    init = methods.get("__init__")
    if model.startswith("self.") and init is not None and init is not setup.function:
        # A trainer: `__init__` runs first; another method changing the mode makes the order unknown.
        others = [m for m in methods.values() if m is not init and m is not setup.function]
        if any(True for m in others for _ in mode_changes(m.body, {model}, setup.module, index, {}, 1)):
            return None
        sequence = [*walk_statements(function_body(init)), *sequence]
    state: _Mode | None = None
    for stmt in sequence:
        if assigns(stmt, model):
            state = None
        if isinstance(stmt, cst.SimpleStatementLine):
            events = list(mode_changes(stmt, {model}, setup.module, index, methods, 0))
            state = events[-1] if events else state
    return state.call if state is not None and state.mode == "eval" else None


# Methods through which a model's submodules may be put in another mode out of dp-lint's sight.
_SUBMODULE_WALKS = frozenset({"apply", "modules", "children", "named_modules", "named_children"})

# Functions that take a model without changing its mode (printing, counting, saving).
_MODE_NEUTRAL = frozenset({"print", "len", "repr", "str", "isinstance", "type", "id", "vars", "sum"})


def _has_backward(loop: cst.CSTNode) -> bool:
    return any(isinstance(c.func, cst.Attribute) and c.func.attr.value == "backward" for c in calls_in(loop))


def _trains_model(loop: cst.CSTNode, names: set[str], module: ModuleInfo, index: ProjectIndex,
                  methods: dict[str, cst.FunctionDef]) -> bool:
    """Does the loop call `.backward()`, itself or in a project function or method of the class it
    passes the model to (`train_one_epoch(model, ...)`)?"""
    if _has_backward(loop):
        return True
    for call in calls_in(loop):
        func = call.func
        if not any(dotted_name(a.value) in names for a in call.args):
            continue
        if isinstance(func, cst.Attribute) and dotted_name(func.value) == "self" and func.attr.value in methods:
            if _has_backward(methods[func.attr.value].body):
                return True
            continue
        qualname = module.resolve_expr(func) if dotted_name(func) else None
        helper = index.lookup_function(qualname) if qualname else None
        if helper is not None and _has_backward(helper.node.body):
            return True
    return False


def mode_changes(node: cst.CSTNode, names: set[str], module: ModuleInfo, index: ProjectIndex,
           methods: dict[str, cst.FunctionDef], depth: int) -> Iterator[_Mode]:
    """The mode changes of the models `names` in `node`, in source order: their `.eval()`/`.train(...)`,
    and those of project functions and methods of the class they are passed to (one level);
    "unknown" where a model goes to a function dp-lint cannot read or `train()` gets a non-literal."""
    calls = sorted(calls_in(node), key=lambda c: module.file.span(c)[0].row * 10_000 + module.file.span(c)[0].column)
    for call in calls:
        func = call.func
        if isinstance(func, cst.Attribute) and dotted_name(func.value) in names:
            name = dotted_name(func.value)
            if func.attr.value == "eval" and not call.args:
                yield _Mode("eval", call, module, name)
            elif func.attr.value == "train":
                flag = literal(call.args[0].value, module) if call.args else True
                mode = "train" if flag is True else "eval" if flag is False else "unknown"
                yield _Mode(mode, call, module, name)
            elif func.attr.value in _SUBMODULE_WALKS:
                yield _Mode("unknown", None, None, None)  # `for m in model.modules(): m.train()`
            continue
        passed = [a for a in call.args if dotted_name(a.value) in names]
        method = methods.get(func.attr.value) if isinstance(func, cst.Attribute) and dotted_name(func.value) == "self" else None
        if method is not None and depth == 0 and any(n.startswith("self.") for n in names):
            for inner in mode_changes(method.body, {n for n in names if n.startswith("self.")}, module, index, {}, depth + 1):
                yield _Mode(inner.mode, call, module, inner.name, f"self.{method.name.value}")
        if not passed:
            continue
        qualname = module.resolve_expr(func) if dotted_name(func) else None
        helper = index.lookup_function(qualname) if qualname else None
        if helper is None and method is None and (
                (isinstance(func, cst.Name) and func.value in _MODE_NEUTRAL) or (qualname or "").startswith("torch.")):
            continue
        if method is not None:
            helper_node, helper_module, skip_self = method, module, True
        elif helper is not None:
            helper_node, helper_module, skip_self = helper.node, helper.module, False
        else:
            yield _Mode("unknown", None, None, None)
            continue
        if depth > 0:
            yield _Mode("unknown", None, None, None)
            continue
        bound = bind_call(helper_node, call, dotted_name, lambda param: None, skip_self=skip_self)
        params = {param for param, caller in bound.items() if caller in names}
        for inner in mode_changes(helper_node.body, params, helper_module, index, {}, depth + 1):
            yield _Mode(inner.mode, call, module, bound.get(inner.name or "") or inner.name,
                        dotted_name(func) if inner.mode != "unknown" else None)


# -- wrap_model=False: the first result is a hooks object ------------------------------

# nn.Module methods opacus 1.6.0's `GradSampleHooks` lacks (measured: AttributeError for each).
MODEL_METHODS = frozenset({"train", "eval", "parameters", "to", "state_dict"})
# The API of opacus 1.6.0's `AbstractGradSampleHooks` (what the first result is for).
HOOKS_API = frozenset({"cleanup", "remove_hooks", "disable_hooks", "enable_hooks", "set_grad_sample_to_none",
                       "del_grad_sample", "forbid_grad_accumulation", "allow_grad_accumulation", "add_hooks"})


@dataclass(frozen=True)
class HooksAsModel:
    """A use of the hooks object `make_private*(..., wrap_model=False)` returns first as a model
    (`TrainingSetup.hooks_used_as_model`)."""

    use: cst.Call  # `model(x)`, `model.train()`, or the call of the helper that does it
    module: ModuleInfo  # where that call is written
    name: str  # the first result's name in the setup's function (`"model"`, `"self.model"`)
    how: str  # what is done with it, for messages: "called", "`.train()`"
    through: str | None  # the project function or method doing it (`"train_epoch"`), None: directly


def _model_use(call: cst.Call, names: set[str]) -> str | None:
    """How `call` uses one of `names` as a model, or None."""
    func = call.func
    if dotted_name(func) in names:
        return "called"
    if isinstance(func, cst.Attribute) and dotted_name(func.value) in names and func.attr.value in MODEL_METHODS:
        return f"`.{func.attr.value}()`"
    return None


def _uses_in(statements: Sequence[cst.CSTNode], names: set[str]) -> Iterator[tuple[cst.Call, str]]:
    """The model uses of `names` in `statements` (source order), up to the statement binding one again."""
    for stmt in statements:
        for call in _own_calls(stmt):
            how = _model_use(call, names)
            if how is not None:
                yield call, how
        if any(_binds(stmt, n) for n in names):
            return


def _hooks_used_as_model(setup: TrainingSetup, index: ProjectIndex) -> Iterator[HooksAsModel]:
    if not setup.engine.kind.makes_private or setup.wrap_model is not False or not setup.targets:
        return
    first = setup.targets[0]
    if first is None or first == "_" or setup.target_count not in (3, 4):
        return
    methods = class_methods(enclosing_class(setup))
    seen: set[int] = set()
    yield from _hooks_uses(setup.after, first, setup, methods, index, seen)
    if first.startswith("self."):
        # The other methods of the trainer (`fit()` after `setup()`); `__init__` runs before the call.
        for method in methods:
            if method is not setup.function and method.name.value != "__init__":
                yield from _hooks_uses(list(walk_statements(function_body(method))), first, setup, methods, index,
                                       seen)


def _hooks_uses(statements: Sequence[cst.CSTNode], first: str, setup: TrainingSetup,
                methods: list[cst.FunctionDef], index: ProjectIndex, seen: set[int]) -> Iterator[HooksAsModel]:
    """The model uses of `first` in `statements` (directly or through a helper), up to its next binding."""
    for stmt in statements:
        for call in _own_calls(stmt):
            how = _model_use(call, {first})
            if how is not None:
                yield HooksAsModel(call, setup.module, first, how, None)
                continue
            through = _helper_use(call, first, setup, methods, index, seen)
            if through is not None:
                yield HooksAsModel(call, setup.module, first, through[1], through[0])
        if _binds(stmt, first):
            return


def _helper_use(call: cst.Call, first: str, setup: TrainingSetup, methods: list[cst.FunctionDef],
                index: ProjectIndex, seen: set[int]) -> tuple[str, str] | None:
    """(the helper's name, how it uses its parameter as a model) when `call` passes `first` to a project
    function or a method of the class that does (one level; a parameter it rebinds is not followed)."""
    if not any(dotted_name(a.value) == first for a in call.args) or any(a.star for a in call.args):
        return None
    func = call.func
    name = dotted_name(func)
    helper_node: cst.FunctionDef | None = None
    skip_self = False
    if isinstance(func, cst.Attribute) and dotted_name(func.value) == "self":
        helper_node = next((m for m in methods if m.name.value == func.attr.value), None)
        skip_self = True
    elif name is not None and setup.module.binds(name):
        qualname = setup.module.resolve_expr(func)
        helper = index.lookup_function(qualname) if qualname else None
        helper_node = helper.node if helper is not None else None
    if helper_node is None or name is None or helper_node is setup.function or id(helper_node) in seen:
        return None
    seen.add(id(helper_node))
    bound = bind_call(helper_node, call, dotted_name, lambda param: None, skip_self=skip_self)
    body = function_body(helper_node)
    params = {param for param, caller in bound.items() if caller == first} - set(assignments_in(body))
    found = next(_uses_in(list(walk_statements(body)), params), None) if params else None
    return (name, found[1]) if found is not None else None

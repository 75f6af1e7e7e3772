"""Where gradients flow in `forward`: which submodule calls reach the outputs, and how.

Opacus counts every call of a trainable layer made with grad enabled (forward hook)
and publishes per-sample gradients only when each counted call got its backward.
So the unit of analysis is the *call site*: `self.enc(x1)` and `self.enc(x2)` are two
call sites of one submodule, and each must reach the loss with gradient.

The analysis interprets `forward` abstractly, statement by statement. Every value
carries:
- `grad`: call sites whose output flows into it with gradient;
- `stopped`: call sites whose output flows into it only through a stop-gradient,
  with the place where gradient was stopped (`.detach()`, `.data`, `.detach_()`,
  `torch.Tensor.detach(t)`, a helper function that does one of those, or a value
  read inside `torch.no_grad()`).
Branches are merged by union and loops run twice, so `grad` over-approximates: a call
is called "stopped" only when *no* path keeps its gradient. `self` methods and
project functions called from `forward` are interpreted in place (bounded depth).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import Enum

import libcst as cst

from dp_lint.analysis import knowledge as tk
from dp_lint.analysis.constants import literal
from dp_lint.analysis.forward_walk import (
    ForwardWalker,
    bind_arguments,
    body_of,
    is_bound_method,
    is_super_call,
    project_function,
    self_method,
    super_method,
)
from dp_lint.analysis.index import ClassInfo, FunctionInfo, ModuleInfo
from dp_lint.analysis.models import ModuleClass, ModuleModels, Tri
from dp_lint.files.source import SourceFile
from dp_lint.files.syntax import dotted_name, is_self, root_name

MAX_DEPTH = 6  # inlined `self` methods and project functions, at most this deep
GradMode = bool | None  # True: grad enabled; False: disabled (no_grad); None: unknown (eval branch, set_grad_enabled(x))
# Container methods whose results iterate over the container's modules.
_ITERATING_METHODS = frozenset({"values", "items", "children", "named_children", "modules", "named_modules"})
# Builtins that pass a container's modules through (`for i, blk in enumerate(self.blocks)`).
_PASSING_FUNCTIONS = frozenset({"enumerate", "reversed", "list", "tuple", "iter", "sorted"})
_SHAPE_ATTRIBUTES = frozenset({"shape", "dtype", "device", "ndim", "is_cuda", "requires_grad", "grad_fn"})
_SHAPE_METHODS = frozenset({"size", "dim", "numel", "type", "get_device", "stride", "nelement"})


@dataclass(frozen=True)
class CallSite:
    """One call of a trainable submodule made with grad enabled."""

    attr: str
    node: cst.Call
    file: SourceFile
    # The chain of inlined calls (and function definitions) that led here: a helper called
    # twice makes two sites.
    context: tuple[cst.CSTNode, ...]
    confident: bool  # the submodule is known to own trainable parameters


class StopKind(str, Enum):
    """How gradient was stopped (what a fix can do about it)."""

    METHOD = "method"  # x.detach()
    DETACH_ = "detach_"  # x.detach_(): in place
    ATTRIBUTE = "attribute"  # x.data
    FUNCTION = "function"  # torch.Tensor.detach(x)
    HELPER = "helper"  # sg(x): a project function that stops gradient (a fix keeps it)
    NO_GRAD_USE = "no_grad_use"  # a gradient-carrying value read inside torch.no_grad()

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class StopPoint:
    """Where gradient was stopped, as it will be reported."""

    node: cst.CSTNode
    file: SourceFile
    how: str  # ".detach()", ".data", ".detach_()", "torch.Tensor.detach()", "helper `sg()`", "torch.no_grad()"
    kind: StopKind = StopKind.METHOD
    operand: cst.CSTNode | None = None  # the expression whose gradient is stopped


@dataclass(frozen=True)
class ParameterRead:
    """`self.<attr>.<name>` read in forward with grad enabled, in a way that may carry its
    gradient (`F.linear(h, self.wte.weight)`, `self.pos.weight[:n]`): the attribute is used
    without calling the submodule. Shape reads, `.detach()`, `.data`, comparisons and reads
    under `torch.no_grad()` are not recorded."""

    attr: str  # the submodule
    name: str  # the attribute read on it ("weight")
    node: cst.Attribute  # `self.wte.weight`
    file: SourceFile
    context: tuple[cst.CSTNode, ...]  # the inlined calls that led here (see CallSite)


@dataclass(frozen=True)
class Value:
    """The abstract value of an expression in `forward`."""

    grad: frozenset[CallSite] = frozenset()
    stopped: frozenset[tuple[CallSite, StopPoint]] = frozenset()
    module_ref: str | None = None  # the value *is* submodule `self.<attr>` (or one element of it)

    def __or__(self, other: Value) -> Value:
        if other is EMPTY:
            return self
        if self is EMPTY:
            return other
        return Value(self.grad | other.grad, self.stopped | other.stopped, self.module_ref or other.module_ref)

    def data(self) -> Value:
        """The value without its module reference (what flows on as data)."""
        return self if self.module_ref is None else Value(self.grad, self.stopped)

    def stop(self, point: StopPoint) -> Value:
        if not self.grad:
            return self.data() if not self.stopped else Value(frozenset(), self.stopped)
        return Value(frozenset(), self.stopped | {(site, point) for site in self.grad})


EMPTY = Value()


def union(values: Iterable[Value]) -> Value:
    """The union of `values` as data (module references dropped)."""
    result = EMPTY
    for value in values:
        result = result | value.data()
    return result


@dataclass
class FlowResult:
    """The forward gradient flow of one module class (`Project.gradient_flow(cls)`)."""

    cls: ClassInfo
    analyzed: bool = False  # False: no forward, or an internal error (`reason` says which)
    reason: str = ""
    outputs: Value = EMPTY  # what forward returns
    has_outputs: bool = False  # forward returns something
    call_sites: list[CallSite] = field(default_factory=list)
    # Every (site, stop) recorded anywhere, also on values that never reach the outputs.
    all_stops: set[tuple[CallSite, StopPoint]] = field(default_factory=set)
    no_grad_calls: set[str] = field(default_factory=set)  # attrs called with grad disabled
    uncertain_calls: set[str] = field(default_factory=set)  # attrs called under an unknown grad mode
    escaped: set[str] = field(default_factory=set)  # attrs used in ways dp-lint cannot follow
    parameter_reads: list[ParameterRead] = field(default_factory=list)  # `self.<sub>.<x>` used with gradient
    dynamic_access: bool = False  # getattr(self, ...) etc.: any submodule may be used
    analysed_functions: set[cst.CSTNode] = field(default_factory=set)  # FunctionDef nodes interpreted

    def sites_of(self, attr: str) -> list[CallSite]:
        """The call sites of submodule `self.<attr>`."""
        return [s for s in self.call_sites if s.attr == attr]

    def reaches_with_gradient(self, site: CallSite) -> bool:
        """Does some path carry `site`'s output to forward's result with gradient?"""
        return site in self.outputs.grad

    def stops_for(self, site: CallSite) -> list[StopPoint]:
        """Where `site`'s output was stopped, preferring stops on the way to the outputs."""
        on_outputs = [p for s, p in self.outputs.stopped if s == site]
        return on_outputs or [p for s, p in self.all_stops if s == site]


@dataclass
class _Frame:
    owner: ClassInfo | None  # class whose method this is (None: a free function)
    module: ModuleInfo
    file: SourceFile
    anchor: cst.CSTNode | None  # for helper frames: where to report stops found inside
    anchor_file: SourceFile | None
    context: tuple
    returns: list = field(default_factory=list)
    depth: int = 0


@dataclass
class _Scope:
    """The walker's state: local names, the function being interpreted, the grad mode."""

    env: dict[str, Value]
    frame: _Frame
    grad: GradMode


class ForwardFlow(ForwardWalker[_Scope]):
    """Interprets `forward` of one module class."""

    loop_passes = 2  # values carried from one iteration to the next
    max_depth = MAX_DEPTH

    def __init__(self, models: ModuleModels, cls: ClassInfo) -> None:
        self.models = models
        self.index = models.index
        self.cls = cls
        self.model: ModuleClass = models.model(cls)
        self.result = FlowResult(cls)

    def run(self) -> FlowResult:
        found = self.index.find_method(self.cls, "forward")
        if found is None:
            self.result.reason = "no forward method"
            return self.result
        owner, forward = found
        root = _Frame(owner, owner.module, owner.module.file, None, None, (forward.node,))
        self.result.analysed_functions.add(forward.node)
        self._run(forward, root, {}, grad=True)
        self.result.outputs = union(root.returns)
        self.result.has_outputs = bool(root.returns)
        self.result.analyzed = True
        return self.result

    # -- functions ---------------------------------------------------------------

    def _call_function(self, function: FunctionInfo, caller: _Frame, call: cst.Call, values: dict[int, Value],
                       grad: GradMode, owner: ClassInfo | None = None) -> Value:
        """Interpret a `self` method (owner given) or a project function called from `caller`;
        `values` holds the evaluated arguments of `call` (by node)."""
        passed = list(values.values())
        if self.too_deep(caller.depth) or function.node in caller.context:
            return union(passed)
        self.result.analysed_functions.add(function.node)
        if owner is not None:
            # A method of the analysed class: stops inside it are reported where they are.
            frame = _Frame(owner, function.module, function.module.file, caller.anchor, caller.anchor_file,
                           caller.context + (call, function.node), depth=caller.depth + 1)
        else:
            # A helper function: stops inside it are reported at the call in the class's code.
            frame = _Frame(None, function.module, function.module.file,
                           caller.anchor or call, caller.anchor_file or caller.file,
                           caller.context + (call, function.node), depth=caller.depth + 1)
        bound_self = owner is not None and is_bound_method(function)
        # What the call may pass but dp-lint cannot place (`*args`, `**kwargs`): any argument.
        env = bind_arguments(
            function, call,
            evaluate=lambda expr: values.get(id(expr), EMPTY),
            default=lambda param: EMPTY if param is not None else union(passed),
            bound_self=bound_self,
            rest=lambda args: union(values.get(id(a.value), EMPTY) for a in args),
        )
        self._run(function, frame, env, grad)
        return union(frame.returns)

    def _run(self, function: FunctionInfo, frame: _Frame, env: dict[str, Value], grad: GradMode) -> None:
        for name in function.decorator_names():
            if name in tk.NO_GRAD:
                grad = False
            elif name in tk.ENABLE_GRAD:
                grad = True
        self.walk_function(function, _Scope(env, frame, grad))

    # -- statements (the walk is ForwardWalker's; these hooks give it meaning) ----------------

    def expression(self, expr: cst.BaseExpression, state: _Scope) -> Value:
        return self._expr(expr, state.env, state.frame, state.grad)

    def fork(self, state: _Scope) -> _Scope:
        return _Scope(dict(state.env), state.frame, state.grad)

    def join(self, state: _Scope, others: Sequence[_Scope]) -> None:
        for other in others:
            _merge_into(state.env, other.env)

    def if_statement(self, stmt: cst.If, state: _Scope) -> None:
        training_first = _training_test(stmt.test)
        if training_first is None:
            super().if_statement(stmt, state)
            return
        # `if self.training:` / `if not self.training:`: Opacus trains in training mode
        # and its hooks skip modules in eval mode, so calls on the eval branch are not
        # counted (grad mode None: no call sites, no verdict about those modules).
        orelse = body_of(stmt.orelse.body) if isinstance(stmt.orelse, cst.Else) else (
            [stmt.orelse] if stmt.orelse is not None else [])
        body = body_of(stmt.body)
        training_body, eval_body = (body, orelse) if training_first else (orelse, body)
        grad = state.grad
        results = []
        for block, mode in ((training_body, grad), (eval_body, None if grad is not False else False)):
            branch = _Scope(dict(state.env), state.frame, mode)
            self.walk_block(block, branch)
            results.append(branch)
        self.join(state, results)

    def loop_target(self, stmt: cst.For, iterated: object, state: _Scope) -> None:
        assert isinstance(iterated, Value)
        self._bind(stmt.target, iterated, state.env)  # elements keep data and module references

    def with_statement(self, stmt: cst.With, state: _Scope) -> None:
        inner_grad = state.grad
        for item in stmt.items:
            mode = self._grad_mode_of(item.item, state.frame)
            if not isinstance(mode, str):  # not "unchanged"
                inner_grad = mode
            value = self.expression(item.item, state)
            if item.asname is not None:
                self._bind(item.asname.name, value, state.env)
        self.walk_block(body_of(stmt.body), _Scope(state.env, state.frame, inner_grad))

    def definition(self, stmt: cst.FunctionDef | cst.ClassDef, state: _Scope) -> None:
        state.env[stmt.name.value] = EMPTY

    def other_statement(self, stmt: cst.BaseStatement, state: _Scope) -> None:
        pass  # `try/except*` and the like: not followed

    def assignment(self, targets: Sequence[cst.BaseExpression], value: cst.BaseExpression, state: _Scope) -> None:
        result = self.expression(value, state)
        for target in targets:
            self._assign(target, result, state.env)

    def augmented_assignment(self, small: cst.AugAssign, state: _Scope) -> None:
        value = self.expression(small.value, state)
        current = self.expression(small.target, state)
        self._assign(small.target, current.data() | value.data(), state.env)

    def return_statement(self, value: cst.BaseExpression, state: _Scope) -> None:
        state.frame.returns.append(self.expression(value, state).data())

    def expression_statement(self, value: cst.BaseExpression, state: _Scope) -> None:
        self._expr(value, state.env, state.frame, state.grad, statement=True)

    def _assign(self, target: cst.BaseExpression, value: Value, env: dict[str, Value]) -> None:
        if isinstance(target, cst.Subscript):
            # `out[i] = v`: `out` now also holds v.
            base = root_name(target)
            if base is not None:
                env[base] = env.get(base, EMPTY) | value.data()
            return
        if isinstance(target, cst.Attribute):
            base = dotted_name(target)
            if base is not None:
                env[base] = value
                root = root_name(target)
                if root is not None and root != "self" and root in env:
                    env[root] = env[root] | value.data()
            return
        self._bind(target, value, env)

    def _bind(self, target: cst.BaseExpression, value: Value, env: dict[str, Value]) -> None:
        if isinstance(target, cst.Name):
            env[target.value] = value
        elif isinstance(target, (cst.Tuple, cst.List)):
            for element in target.elements:
                inner = element.value
                self._bind(inner, value, env)
        elif isinstance(target, cst.StarredElement):
            self._bind(target.value, value, env)
        elif isinstance(target, cst.Attribute):
            name = dotted_name(target)
            if name:
                env[name] = value

    # -- grad mode -----------------------------------------------------------------

    def _grad_mode_of(self, expr: cst.BaseExpression, frame: _Frame) -> GradMode | str:
        """False under no_grad/inference_mode, True under enable_grad, None when unknowable."""
        func = expr.func if isinstance(expr, cst.Call) else expr
        qualname = frame.module.resolve_expr(func)
        if qualname is None:
            return "unchanged"
        if qualname in tk.NO_GRAD:
            if isinstance(expr, cst.Call) and expr.args and qualname.endswith("inference_mode"):
                if literal(expr.args[0].value, None) is False:
                    return "unchanged"
            return False
        if qualname in tk.ENABLE_GRAD:
            return True
        if qualname in tk.SET_GRAD_ENABLED:
            if isinstance(expr, cst.Call) and expr.args:
                value = literal(expr.args[0].value, None)
                if isinstance(value, bool):
                    return value
            return None
        return "unchanged"

    # -- expressions ---------------------------------------------------------------

    def _expr(self, expr, env: dict, frame: _Frame, grad, statement: bool = False) -> Value:
        if isinstance(expr, cst.Name):
            value = env.get(expr.value, EMPTY)
            if grad is False and value.grad:
                # A gradient-carrying value read inside torch.no_grad(): its gradient stops here.
                value = value.stop(self._stop_point(expr, "use inside torch.no_grad()", frame, StopKind.NO_GRAD_USE, expr))
                self._record_stops(value)
            return value
        if isinstance(expr, cst.Attribute):
            return self._attribute(expr, env, frame, grad)
        if isinstance(expr, cst.Call):
            return self._call(expr, env, frame, grad, statement)
        if isinstance(expr, cst.Subscript):
            base = self._expr(expr.value, env, frame, grad)
            for element in expr.slice:
                if isinstance(element.slice, cst.Index):
                    self._expr(element.slice.value, env, frame, grad)
            if base.module_ref is not None:
                return Value(module_ref=base.module_ref)
            return base
        if isinstance(expr, cst.BinaryOperation):
            return union([self._expr(expr.left, env, frame, grad), self._expr(expr.right, env, frame, grad)])
        if isinstance(expr, cst.UnaryOperation):
            return self._expr(expr.expression, env, frame, grad).data()
        if isinstance(expr, cst.BooleanOperation):
            return union([self._expr(expr.left, env, frame, grad), self._expr(expr.right, env, frame, grad)])
        if isinstance(expr, cst.Comparison):
            parts = [self._expr(expr.left, env, frame, grad)]
            parts += [self._expr(c.comparator, env, frame, grad) for c in expr.comparisons]
            return union(parts)
        if isinstance(expr, cst.IfExp):
            self._expr(expr.test, env, frame, grad)
            return union([self._expr(expr.body, env, frame, grad), self._expr(expr.orelse, env, frame, grad)])
        if isinstance(expr, (cst.Tuple, cst.List, cst.Set)):
            values = [self._expr(e.value, env, frame, grad) for e in expr.elements]
            refs = {v.module_ref for v in values if v.module_ref}
            result = union(values)
            # A literal list of submodules (`for m in [self.a, self.b]`) keeps one reference.
            if len(refs) == 1 and all(v.module_ref for v in values):
                return Value(result.grad, result.stopped, refs.pop())
            for ref in refs:
                self.result.escaped.add(ref)
            return result
        if isinstance(expr, cst.Dict):
            values = []
            for entry in expr.elements:
                if isinstance(entry, cst.DictElement):
                    self._expr(entry.key, env, frame, grad)
                    values.append(self._expr(entry.value, env, frame, grad))
                else:
                    values.append(self._expr(entry.value, env, frame, grad))
            return self._escape_refs(values)
        if isinstance(expr, (cst.ListComp, cst.SetComp, cst.GeneratorExp, cst.DictComp)):
            return self._comprehension(expr, env, frame, grad)
        if isinstance(expr, cst.StarredElement):
            return self._expr(expr.value, env, frame, grad)
        if isinstance(expr, cst.NamedExpr):
            value = self._expr(expr.value, env, frame, grad)
            self._bind(expr.target, value, env)
            return value
        if isinstance(expr, (cst.Await, cst.Yield)):
            inner = getattr(expr, "expression", None) or getattr(expr, "value", None)
            return self._expr(inner, env, frame, grad) if isinstance(inner, cst.BaseExpression) else EMPTY
        return EMPTY  # literals, lambdas, f-strings

    def _escape_refs(self, values: list[Value]) -> Value:
        for value in values:
            if value.module_ref:
                self.result.escaped.add(value.module_ref)
        return union(values)

    def _comprehension(self, expr, env: dict, frame: _Frame, grad) -> Value:
        inner = dict(env)
        comp = expr.for_in
        while comp is not None:
            iterated = self._expr(comp.iter, inner, frame, grad)
            self._bind(comp.target, iterated, inner)
            for condition in comp.ifs:
                self._expr(condition.test, inner, frame, grad)
            comp = comp.inner_for_in
        if isinstance(expr, cst.DictComp):
            self._expr(expr.key, inner, frame, grad)
            return self._expr(expr.value, inner, frame, grad).data()
        return self._expr(expr.elt, inner, frame, grad).data()

    def _attribute(self, expr: cst.Attribute, env: dict, frame: _Frame, grad) -> Value:
        name = dotted_name(expr)
        if name is not None and name in env:
            return env[name]
        if is_self(expr.value):
            attr = expr.attr.value
            if attr in self.model.submodules:
                return Value(module_ref=attr)
            if attr in {"_modules", "__dict__"}:
                self.result.dynamic_access = True
            return EMPTY
        if expr.attr.value in tk.STOP_ATTRIBUTES:
            base = self._expr(expr.value, env, frame, grad)
            value = base.stop(self._stop_point(expr, ".data", frame, StopKind.ATTRIBUTE, expr.value))
            self._record_stops(value)
            return value
        base = self._expr(expr.value, env, frame, grad)
        if expr.attr.value in _SHAPE_ATTRIBUTES:
            return EMPTY
        if base.module_ref is not None:
            # `self.pos_embed.weight[:T]`: the parameter is used outside its module's call,
            # so the module's own hooks never see it. Not a call; and not a module that
            # "gets no gradient" either: DPL003 must stay silent about it.
            self.result.escaped.add(base.module_ref)
            if grad is True and not self._without_gradient(expr, frame):
                self.result.parameter_reads.append(
                    ParameterRead(base.module_ref, expr.attr.value, expr, frame.file, frame.context))
            return EMPTY
        return base

    def _without_gradient(self, read: cst.Attribute, frame: _Frame) -> bool:
        """Does the code around `read` take nothing differentiable from it (its shape, a detached
        copy, a comparison, a fresh tensor like it, an assignment to another attribute)?"""
        parents = frame.file.parents
        parent = parents.get(read)
        grandparent = parents.get(parent) if parent is not None else None
        if isinstance(parent, cst.Attribute) and parent.value is read:
            name = parent.attr.value
            if name in _SHAPE_ATTRIBUTES or name in tk.STOP_ATTRIBUTES or name == "grad":
                return True
            if isinstance(grandparent, cst.Call) and grandparent.func is parent:
                return name in tk.STOP_METHODS or name in _SHAPE_METHODS or name in tk.TENSOR_NO_GRADIENT_METHODS
            return False
        if isinstance(parent, cst.Comparison) or isinstance(parent, cst.ComparisonTarget):
            return True
        if isinstance(parent, cst.Arg) and isinstance(grandparent, cst.Call):
            qualname = frame.module.resolve_expr(grandparent.func)
            if qualname in tk.TENSOR_NO_GRADIENT_FUNCTIONS or qualname in tk.STOP_FUNCTIONS:
                return True
        if isinstance(parent, cst.Assign) and parent.value is read:
            # `self.head.weight = self.emb.weight` written in forward: a tie, not a use.
            return all(isinstance(t.target, cst.Attribute) for t in parent.targets)
        return False

    def _call(self, call: cst.Call, env: dict, frame: _Frame, grad, statement: bool) -> Value:
        func = call.func
        arg_values: list[Value] = []
        kwarg_values: dict[str, Value] = {}
        values: dict[int, Value] = {}  # every argument's value, by its expression node

        def evaluate_args() -> list[Value]:
            for arg in call.args:
                value = self._expr(arg.value, env, frame, grad)
                values[id(arg.value)] = value
                if arg.keyword is not None:
                    kwarg_values[arg.keyword.value] = value
                else:
                    arg_values.append(value)
            return arg_values

        qualname = frame.module.resolve_expr(func) if isinstance(func, (cst.Name, cst.Attribute)) else None
        if qualname in tk.STOP_FUNCTIONS:
            evaluate_args()
            if not arg_values:
                return EMPTY
            value = arg_values[0].stop(
                self._stop_point(call, f"`{dotted_name(func)}()`", frame, StopKind.FUNCTION, call.args[0].value))
            self._record_stops(value)
            return value

        if isinstance(func, cst.Attribute):
            method = func.attr.value
            receiver_node = func.value
            # super().forward(x) / super(Cls, self).method(x)
            if is_super_call(receiver_node):
                evaluate_args()
                return self._call_super(method, call, values, frame, grad)
            if is_self(receiver_node) and method in self.model.submodules and f"self.{method}" not in env:
                evaluate_args()
                return self._module_call(method, call, arg_values, kwarg_values, frame, grad)
            receiver = self._expr(receiver_node, env, frame, grad)
            if method in tk.STOP_METHODS:
                evaluate_args()
                how = f".{method}()"
                value = receiver.stop(self._stop_point(call, how, frame, StopKind.DETACH_ if method == "detach_" else StopKind.METHOD, receiver_node))
                self._record_stops(value)
                if method == "detach_" and isinstance(receiver_node, cst.Name):
                    env[receiver_node.value] = value  # in place: the variable itself is now detached
                return value
            if receiver.module_ref is not None:
                evaluate_args()
                if method in _ITERATING_METHODS:
                    # `for name, head in self.heads.items(): head(x)`: the elements are the
                    # container's modules.
                    return Value(module_ref=receiver.module_ref)
                if method in tk.NON_FORWARD_METHODS:
                    return EMPTY
                # `self.backbone.forward_features(x)`: runs the submodule's layers.
                return self._module_call(receiver.module_ref, call, arg_values, kwarg_values, frame, grad)
            if is_self(receiver_node) and method in _ITERATING_METHODS | {"apply", "get_submodule"}:
                # `for m in self.modules(): ...`: any submodule may be used here.
                self.result.dynamic_access = True
            if is_self(receiver_node):
                found = self._self_method(method)
                if found is not None:
                    evaluate_args()
                    owner, function = found
                    return self._call_function(function, frame, call, values, grad, owner=owner)
            evaluate_args()
            if method in _SHAPE_METHODS:
                return EMPTY
            if method in tk.MUTATING_METHODS and isinstance(receiver_node, cst.Name):
                env[receiver_node.value] = receiver | union(arg_values + list(kwarg_values.values()))
            return self._escape_refs([receiver] + arg_values + list(kwarg_values.values()))

        callee = self._expr(func, env, frame, grad)
        evaluate_args()
        if callee.module_ref is not None:
            return self._module_call(callee.module_ref, call, arg_values, kwarg_values, frame, grad)
        if isinstance(func, cst.Subscript):
            target = self._expr(func, env, frame, grad)
            if target.module_ref is not None:
                return self._module_call(target.module_ref, call, arg_values, kwarg_values, frame, grad)
        if qualname in {"torch.utils.checkpoint.checkpoint", "checkpoint"} and arg_values and arg_values[0].module_ref:
            return self._module_call(arg_values[0].module_ref, call, arg_values[1:], kwarg_values, frame, grad)
        if qualname in _PASSING_FUNCTIONS:
            refs = {v.module_ref for v in arg_values if v.module_ref}
            if len(refs) == 1:
                # `enumerate(self.blocks)`, `reversed(self.layers)`: still the container's modules.
                ref = refs.pop()
                return Value(module_ref=ref)
        if qualname == "getattr" and call.args and is_self(call.args[0].value):
            self.result.dynamic_access = True
            return EMPTY
        helper = project_function(frame.module, func) if isinstance(func, cst.Name) else None
        if helper is not None:
            return self._call_function(helper, frame, call, values, grad)
        return self._escape_refs(arg_values + list(kwarg_values.values()))

    def _call_super(self, method: str, call: cst.Call, values: dict[int, Value], frame: _Frame, grad: GradMode) -> Value:
        if frame.owner is None:
            return union(values[id(a.value)] for a in call.args if a.keyword is None)
        found = super_method(self.index, self.cls, method, frame.owner)
        if found is None:
            return union(values.values())
        owner, function = found
        return self._call_function(function, frame, call, values, grad, owner=owner)

    def _self_method(self, name: str) -> tuple[ClassInfo, FunctionInfo] | None:
        if name in self.model.submodules:
            return None
        return self_method(self.index, self.cls, name)

    def _module_call(self, attr: str, call: cst.Call, args, kwargs, frame: _Frame, grad) -> Value:
        inputs = union(list(args) + list(kwargs.values()))
        if grad is False:
            self.result.no_grad_calls.add(attr)
            return inputs
        if grad is None:
            self.result.uncertain_calls.add(attr)
            return inputs
        sub = self.model.submodules.get(attr)
        if sub is None:
            return inputs
        owns = sub.kind.owns_parameters
        if owns is Tri.NO or self.model.is_frozen(attr) or self.models.frozen_elsewhere(self.cls, attr):
            return inputs
        if self.model.unattributed_freeze or (owns is Tri.UNKNOWN and sub.kind.external):
            # A module of another library with no known parameters is unknown, not trainable.
            self.result.uncertain_calls.add(attr)
            return inputs
        site = CallSite(
            attr=attr,
            node=call,
            file=frame.file,
            context=frame.context,
            confident=owns is Tri.YES and sub.kind.certain_module,
        )
        self.result.call_sites.append(site)
        return Value(frozenset({site})) | inputs

    # -- stop points -----------------------------------------------------------------

    def _stop_point(self, node: cst.CSTNode, how: str, frame: _Frame, kind: StopKind,
                    operand: cst.CSTNode | None) -> StopPoint:
        if frame.anchor is not None and frame.anchor_file is not None:
            helper = dotted_name(frame.anchor.func) if isinstance(frame.anchor, cst.Call) else None
            return StopPoint(frame.anchor, frame.anchor_file or frame.file, f"the helper `{helper}()` ({how})" if helper else how,
                             StopKind.HELPER, frame.anchor)
        return StopPoint(node, frame.file, how, kind, operand)

    def _record_stops(self, value: Value) -> None:
        self.result.all_stops.update(value.stopped)


def _training_test(test) -> bool | None:
    """True for `self.training`, False for `not self.training`, None for anything else."""
    if isinstance(test, cst.Attribute) and is_self(test.value) and test.attr.value == "training":
        return True
    if isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
        inner = _training_test(test.expression)
        return None if inner is None else not inner
    return None


def _merge_into(env: dict, other: dict) -> None:
    for name, value in other.items():
        current = env.get(name)
        env[name] = value if current is None else (current | value)

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

from collections.abc import Iterable
from dataclasses import dataclass, field

import libcst as cst

from dp_lint.analysis import knowledge as tk
from dp_lint.analysis.index import ClassInfo, FunctionInfo, ModuleInfo
from dp_lint.analysis.models import ModuleClass, ModuleModels, Tri
from dp_lint.files.source import SourceFile
from dp_lint.files.syntax import dotted_name, is_self, root_name

MAX_DEPTH = 6
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
    context: tuple  # the chain of inlined calls that led here (a helper called twice = two sites)
    confident: bool  # the submodule is known to own trainable parameters


@dataclass(frozen=True)
class StopPoint:
    """Where gradient was stopped, as it will be reported."""

    node: cst.CSTNode
    file: SourceFile
    how: str  # ".detach()", ".data", ".detach_()", "torch.Tensor.detach()", "helper `sg()`", "torch.no_grad()"
    # For fixes: "method" (x.detach()), "detach_" (x.detach_()), "attribute" (x.data),
    # "function" (torch.Tensor.detach(x)), "helper" (sg(x), kept as is), "no_grad_use".
    kind: str = "method"
    operand: cst.CSTNode | None = None  # the expression whose gradient is stopped


@dataclass(frozen=True)
class Value:
    grad: frozenset = frozenset()
    stopped: frozenset = frozenset()  # of (CallSite, StopPoint)
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
    result = EMPTY
    for value in values:
        result = result | value.data()
    return result


@dataclass
class FlowResult:
    cls: ClassInfo
    analyzed: bool = False
    reason: str = ""
    outputs: Value = EMPTY
    has_outputs: bool = False
    call_sites: list = field(default_factory=list)
    # Every (site, stop) recorded anywhere, also on values that never reach the outputs.
    all_stops: set = field(default_factory=set)
    no_grad_calls: set = field(default_factory=set)  # attrs called with grad disabled
    uncertain_calls: set = field(default_factory=set)  # attrs called under an unknown grad mode
    escaped: set = field(default_factory=set)  # attrs used in ways dp-lint cannot follow
    dynamic_access: bool = False  # getattr(self, ...) etc.: any submodule may be used
    analysed_functions: set = field(default_factory=set)  # FunctionDef nodes interpreted

    def sites_of(self, attr: str) -> list[CallSite]:
        return [s for s in self.call_sites if s.attr == attr]

    def reaches_with_gradient(self, site: CallSite) -> bool:
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


class ForwardFlow:
    """Interprets `forward` of one module class."""

    def __init__(self, models: ModuleModels, cls: ClassInfo):
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
        self._run(forward, root, args=[], kwargs={}, bound_self=True, grad=True)
        self.result.outputs = union(root.returns)
        self.result.has_outputs = bool(root.returns)
        self.result.analyzed = True
        return self.result

    # -- functions ---------------------------------------------------------------

    def _call_function(self, function: FunctionInfo, caller: _Frame, args, kwargs, grad, call_node, owner=None) -> Value:
        """Interpret a `self` method (owner given) or a project function called from `caller`."""
        if caller.depth >= MAX_DEPTH or function.node in caller.context:
            return union(list(args) + list(kwargs.values()))
        self.result.analysed_functions.add(function.node)
        if owner is not None:
            # A method of the analysed class: stops inside it are reported where they are.
            frame = _Frame(owner, function.module, function.module.file, caller.anchor, caller.anchor_file,
                           caller.context + (call_node, function.node), depth=caller.depth + 1)
        else:
            # A helper function: stops inside it are reported at the call in the class's code.
            frame = _Frame(None, function.module, function.module.file,
                           caller.anchor or call_node, caller.anchor_file or caller.file,
                           caller.context + (call_node, function.node), depth=caller.depth + 1)
        bound = owner is not None and "staticmethod" not in function.decorator_names()
        self._run(function, frame, args, kwargs, bound_self=bound, grad=grad)
        return union(frame.returns)

    def _run(self, function: FunctionInfo, frame: _Frame, args, kwargs, bound_self: bool, grad) -> None:
        env: dict[str, Value] = {}
        kwargs = dict(kwargs)
        params = [p.name.value for p in function.params]
        if bound_self and params:
            params = params[1:]
        positional = list(args)
        for name in params:
            if positional:
                env[name] = positional.pop(0)
            elif name in kwargs:
                env[name] = kwargs.pop(name)
        star = function.node.params.star_arg
        if isinstance(star, cst.Param):
            env[star.name.value] = union(positional)
        if function.node.params.star_kwarg is not None:
            env[function.node.params.star_kwarg.name.value] = union(kwargs.values())
        for name in function.decorator_names():
            if name in tk.NO_GRAD:
                grad = False
            elif name in tk.ENABLE_GRAD:
                grad = True
        body = function.node.body
        statements = body.body if isinstance(body, cst.IndentedBlock) else [body]
        self._block(statements, env, frame, grad)

    # -- statements --------------------------------------------------------------

    def _block(self, statements, env: dict, frame: _Frame, grad) -> None:
        for stmt in statements:
            self._statement(stmt, env, frame, grad)

    def _statement(self, stmt, env: dict, frame: _Frame, grad) -> None:
        if isinstance(stmt, cst.SimpleStatementLine):
            for small in stmt.body:
                self._small(small, env, frame, grad)
        elif isinstance(stmt, cst.If) and _training_test(stmt.test) is not None:
            # `if self.training:` / `if not self.training:`: Opacus trains in training mode
            # and its hooks skip modules in eval mode, so calls on the eval branch are not
            # counted (grad mode None: no call sites, no verdict about those modules).
            training_first = _training_test(stmt.test)
            orelse = stmt.orelse.body.body if isinstance(stmt.orelse, cst.Else) else (
                [stmt.orelse] if stmt.orelse is not None else [])
            training_body, eval_body = (stmt.body.body, orelse) if training_first else (orelse, stmt.body.body)
            results = []
            for body, mode in ((training_body, grad), (eval_body, None if grad is not False else False)):
                branch_env = dict(env)
                self._block(body, branch_env, frame, mode)
                results.append(branch_env)
            for branch_env in results:
                _merge_into(env, branch_env)
        elif isinstance(stmt, cst.If):
            self._expr(stmt.test, env, frame, grad)
            branches = [stmt.body.body]
            orelse = stmt.orelse
            while orelse is not None:
                branches.append(orelse.body.body if isinstance(orelse.body, cst.IndentedBlock) else [])
                orelse = orelse.orelse if isinstance(orelse, cst.If) else None
            if not isinstance(stmt.orelse, cst.Else):
                branches.append([])
            self._branches(branches, env, frame, grad)
        elif isinstance(stmt, (cst.For, cst.While)):
            if isinstance(stmt, cst.For):
                iterated = self._expr(stmt.iter, env, frame, grad)
            else:
                self._expr(stmt.test, env, frame, grad)
            before = dict(env)
            for _ in range(2):  # twice: values carried from one iteration to the next
                if isinstance(stmt, cst.For):
                    self._bind(stmt.target, iterated, env)  # elements keep data and module references
                self._block(stmt.body.body, env, frame, grad)
            _merge_into(env, before)
            if stmt.orelse is not None:
                self._block(stmt.orelse.body.body, env, frame, grad)
        elif isinstance(stmt, cst.With):
            inner_grad = grad
            for item in stmt.items:
                mode = self._grad_mode_of(item.item, frame, grad)
                if mode != "unchanged":
                    inner_grad = mode
                value = self._expr(item.item, env, frame, grad)
                if item.asname is not None:
                    self._bind(item.asname.name, value, env)
            self._block(stmt.body.body, env, frame, inner_grad)
        elif isinstance(stmt, cst.Try):
            self._block(stmt.body.body, env, frame, grad)
            branches = [h.body.body for h in stmt.handlers]
            if branches:
                self._branches(branches + [[]], env, frame, grad)
            if stmt.orelse is not None:
                self._block(stmt.orelse.body.body, env, frame, grad)
            if stmt.finalbody is not None:
                self._block(stmt.finalbody.body.body, env, frame, grad)
        elif isinstance(stmt, cst.Match):
            self._expr(stmt.subject, env, frame, grad)
            self._branches([c.body.body for c in stmt.cases] + [[]], env, frame, grad)
        elif isinstance(stmt, (cst.FunctionDef, cst.ClassDef)):
            env[stmt.name.value] = EMPTY

    def _branches(self, branches, env: dict, frame: _Frame, grad) -> None:
        results = []
        for body in branches:
            branch_env = dict(env)
            self._block(body, branch_env, frame, grad)
            results.append(branch_env)
        for branch_env in results:
            _merge_into(env, branch_env)

    def _small(self, small, env: dict, frame: _Frame, grad) -> None:
        if isinstance(small, cst.Assign):
            value = self._expr(small.value, env, frame, grad)
            for target in small.targets:
                self._assign(target.target, value, env, frame, grad)
        elif isinstance(small, cst.AnnAssign) and small.value is not None:
            self._assign(small.target, self._expr(small.value, env, frame, grad), env, frame, grad)
        elif isinstance(small, cst.AugAssign):
            value = self._expr(small.value, env, frame, grad)
            current = self._expr(small.target, env, frame, grad)
            self._assign(small.target, current.data() | value.data(), env, frame, grad)
        elif isinstance(small, cst.Return):
            if small.value is not None:
                frame.returns.append(self._expr(small.value, env, frame, grad).data())
        elif isinstance(small, cst.Expr):
            self._expr(small.value, env, frame, grad, statement=True)
        elif isinstance(small, (cst.Raise, cst.Assert)):
            pass
        elif isinstance(small, cst.Del):
            pass

    def _assign(self, target, value: Value, env: dict, frame: _Frame, grad) -> None:
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

    def _bind(self, target, value: Value, env: dict) -> None:
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

    def _grad_mode_of(self, expr, frame: _Frame, grad):
        """False under no_grad/inference_mode, True under enable_grad, None when unknowable."""
        func = expr.func if isinstance(expr, cst.Call) else expr
        qualname = frame.module.resolve_expr(func)
        if qualname is None:
            return "unchanged"
        if qualname in tk.NO_GRAD:
            if isinstance(expr, cst.Call) and expr.args and qualname.endswith("inference_mode"):
                value = expr.args[0].value
                if isinstance(value, cst.Name) and value.value == "False":
                    return "unchanged"
            return False
        if qualname in tk.ENABLE_GRAD:
            return True
        if qualname in tk.SET_GRAD_ENABLED:
            if isinstance(expr, cst.Call) and expr.args:
                value = expr.args[0].value
                if isinstance(value, cst.Name) and value.value in {"True", "False"}:
                    return value.value == "True"
            return None
        return "unchanged"

    # -- expressions ---------------------------------------------------------------

    def _expr(self, expr, env: dict, frame: _Frame, grad, statement: bool = False) -> Value:
        if isinstance(expr, cst.Name):
            value = env.get(expr.value, EMPTY)
            if grad is False and value.grad:
                # A gradient-carrying value read inside torch.no_grad(): its gradient stops here.
                value = value.stop(self._stop_point(expr, "use inside torch.no_grad()", frame, "no_grad_use", expr))
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
            for element in expr.elements:
                if isinstance(element, cst.DictElement):
                    self._expr(element.key, env, frame, grad)
                    values.append(self._expr(element.value, env, frame, grad))
                else:
                    values.append(self._expr(element.value, env, frame, grad))
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
            value = base.stop(self._stop_point(expr, ".data", frame, "attribute", expr.value))
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
            return EMPTY
        return base

    def _call(self, call: cst.Call, env: dict, frame: _Frame, grad, statement: bool) -> Value:
        func = call.func
        arg_values = []
        kwarg_values = {}

        def evaluate_args():
            for arg in call.args:
                value = self._expr(arg.value, env, frame, grad)
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
                self._stop_point(call, f"`{dotted_name(func)}()`", frame, "function", call.args[0].value))
            self._record_stops(value)
            return value

        if isinstance(func, cst.Attribute):
            method = func.attr.value
            receiver_node = func.value
            # super().forward(x) / super(Cls, self).method(x)
            if isinstance(receiver_node, cst.Call) and dotted_name(receiver_node.func) == "super":
                evaluate_args()
                return self._call_super(method, call, arg_values, kwarg_values, frame, grad)
            if is_self(receiver_node) and method in self.model.submodules and f"self.{method}" not in env:
                evaluate_args()
                return self._module_call(method, call, arg_values, kwarg_values, frame, grad)
            receiver = self._expr(receiver_node, env, frame, grad)
            if method in tk.STOP_METHODS:
                evaluate_args()
                how = f".{method}()"
                value = receiver.stop(self._stop_point(call, how, frame, "detach_" if method == "detach_" else "method", receiver_node))
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
                    return self._call_function(function, frame, arg_values, kwarg_values, grad, call, owner=owner)
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
        if qualname is not None:
            function = self.index.lookup_function(qualname)
            if function is not None:
                return self._call_function(function, frame, arg_values, kwarg_values, grad, call)
        return self._escape_refs(arg_values + list(kwarg_values.values()))

    def _call_super(self, method: str, call, args, kwargs, frame: _Frame, grad) -> Value:
        if frame.owner is None:
            return union(args)
        found = self.index.find_method(self.cls, method, after=frame.owner)
        if found is None:
            return union(list(args) + list(kwargs.values()))
        owner, function = found
        return self._call_function(function, frame, args, kwargs, grad, call, owner=owner)

    def _self_method(self, name: str):
        if name in self.model.submodules:
            return None
        return self.index.find_method(self.cls, name)

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
        if self.model.unattributed_freeze:
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

    def _stop_point(self, node, how: str, frame: _Frame, kind: str, operand) -> StopPoint:
        if frame.anchor is not None:
            helper = dotted_name(frame.anchor.func) if isinstance(frame.anchor, cst.Call) else None
            return StopPoint(frame.anchor, frame.anchor_file, f"the helper `{helper}()` ({how})" if helper else how,
                             "helper", frame.anchor)
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

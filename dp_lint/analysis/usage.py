"""Where else a submodule is used: methods that `forward` does not reach, subclasses."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import partial

import libcst as cst

from dp_lint.analysis import knowledge as tk
from dp_lint.analysis.gradient_flow import FlowResult
from dp_lint.analysis.index import ClassInfo
from dp_lint.analysis.project import Project
from dp_lint.files.syntax import calls_in, dotted_name, is_self


def uses_outside_forward(project: Project, cls: ClassInfo, flow: FlowResult, attr: str) -> bool:
    """Is `self.<attr>` run (called, or handed to other code) in a method forward does not reach?

    `__init__` and parameter-level uses (`self.t.parameters()`, `self.t.eval()`,
    `self.t.load_state_dict(...)`) do not count: they never run the module. Anything
    else does, because the training loop may call that method.
    """
    classes = project.index.mro(cls) + project.index.all_subclasses(cls)
    for owner in classes:
        for name, method in owner.methods.items():
            if name == "__init__" or method.node in flow.analysed_functions:
                continue
            if _runs_attr(method.node, attr, partial(may_run_argument, project, owner, attr=attr)):
                return True
    return False


def _runs_attr(node: cst.CSTNode, attr: str, runs_argument: Callable[[cst.Call], bool]) -> bool:
    found = False

    def visit(current: cst.CSTNode, parent: cst.CSTNode | None, grandparent: cst.CSTNode | None) -> None:
        nonlocal found
        if found:
            return
        if (
            isinstance(current, cst.Attribute)
            and current.attr.value == attr
            and isinstance(current.value, cst.Name)
            and current.value.value == "self"
        ):
            handed = isinstance(parent, cst.Arg) and isinstance(grandparent, cst.Call)
            if handed and isinstance(grandparent, cst.Call) and not runs_argument(grandparent):
                return  # `ema_update(self.teacher, self.student)`: reads parameters, runs nothing
            if not _harmless_use(current, parent, grandparent):
                found = True
            return
        for child in current.children:
            visit(child, current, parent)

    visit(node, None, None)
    return found


def _harmless_use(ref: cst.Attribute, parent: cst.CSTNode | None, grandparent: cst.CSTNode | None) -> bool:
    # self.t.parameters() / self.t.eval() / self.t.requires_grad_(False)
    if isinstance(parent, cst.Attribute) and parent.value is ref:
        if parent.attr.value in tk.NON_FORWARD_METHODS and isinstance(grandparent, cst.Call):
            return True
        # self.t.weight: a parameter read
        return not isinstance(grandparent, cst.Call)
    # `self.t = ...` re-assignment in another method
    if isinstance(parent, cst.AssignTarget):
        return True
    return False


def handed_to_code(project: Project, cls: ClassInfo, attr: str) -> bool:
    """Is `self.<attr>` handed (alone, or in a list/tuple/dict) to a call anywhere in the class
    (any method, `__init__` included, base and subclasses) that may run it? Calls that never run a
    module (`copy.deepcopy`, EMA updates, freezes, `x.load_state_dict(...)`) do not count."""
    for owner in project.index.mro(cls) + project.index.all_subclasses(cls):
        for method in owner.methods.values():
            for call in calls_in(method.node):
                if not any(_holds(arg.value, attr) for arg in call.args):
                    continue
                if not may_run_argument(project, owner, call, attr):
                    continue
                return True
    return False


def _holds(expr: cst.BaseExpression, attr: str) -> bool:
    if isinstance(expr, cst.Attribute) and isinstance(expr.value, cst.Name) and expr.value.value == "self":
        return expr.attr.value == attr
    if isinstance(expr, (cst.List, cst.Tuple, cst.Set)):
        return any(_holds(e.value, attr) for e in expr.elements)
    if isinstance(expr, cst.Dict):
        return any(isinstance(e, cst.DictElement) and _holds(e.value, attr) for e in expr.elements)
    return False


def may_run_argument(project: Project, owner: ClassInfo, call: cst.Call, attr: str) -> bool:
    """May `call` run the module `self.<attr>` it is given?"""
    func = call.func
    if isinstance(func, cst.Attribute) and func.attr.value in tk.NON_FORWARD_METHODS:
        return False  # `self.ema.update_parameters(self.online)`, `self.t.load_state_dict(...)`
    qualname = owner.module.resolve_expr(func)
    if qualname is None:
        return True
    if tk.gives_no_gradient(qualname):
        return False
    function = project.index.lookup_function(qualname)
    if function is None:
        method = project.index.find_method(owner, qualname.rsplit(".", 1)[-1]) if dotted_name(func) == \
            f"self.{qualname.rsplit('.', 1)[-1]}" else None
        function = method[1] if method is not None else None
    if function is None:
        return True
    positional = [a for a in call.args if a.keyword is None and not a.star]
    params = [p.name.value for p in function.params]
    if params and params[0] == "self" and isinstance(func, cst.Attribute):
        params = params[1:]
    names = {params[i] for i, a in enumerate(positional) if i < len(params) and _holds(a.value, attr)}
    names |= {a.keyword.value for a in call.args if a.keyword is not None and _holds(a.value, attr)}
    if any(a.star for a in call.args) or not names:
        return True
    return any(_runs_name(function.node, name) for name in names)


def _runs_name(node: cst.CSTNode, name: str) -> bool:
    """Does the function body call `name`, or hand it on (anything but parameter-level reads)?"""
    found = False

    def visit(current: cst.CSTNode, parent: cst.CSTNode | None, grandparent: cst.CSTNode | None) -> None:
        nonlocal found
        if found:
            return
        if isinstance(current, cst.Name) and current.value == name and not isinstance(parent, cst.Param):
            if isinstance(parent, cst.Attribute) and parent.value is current:
                if not isinstance(grandparent, cst.Call) or parent.attr.value in tk.NON_FORWARD_METHODS:
                    return  # `m.weight`, `m.parameters()`, `m.load_state_dict(...)`
            found = True
            return
        for child in current.children:
            visit(child, current, parent)

    visit(node, None, None)
    return found


def ties_parameter(project: Project, cls: ClassInfo, attr: str) -> bool:
    """Is an attribute of `self.<attr>` tied to another one anywhere in the class (any method,
    base and subclasses): `self.head.weight = self.emb.weight`, with `self.<attr>` on either
    side? Then the parameter may also be another module's, and get per-sample gradients there."""
    for owner in project.index.mro(cls) + project.index.all_subclasses(cls):
        for method in owner.methods.values():
            for node in _assignments(method.node):
                sides = [target.target for target in node.targets] + [node.value]
                if any(_attribute_of(side, attr) for side in sides):
                    return True
    return False


def _assignments(node: cst.CSTNode) -> Iterator[cst.Assign]:
    if isinstance(node, cst.Assign):
        yield node
    for child in node.children:
        yield from _assignments(child)


def _attribute_of(expr: cst.BaseExpression, attr: str) -> bool:
    """`self.<attr>.<x>`."""
    return (isinstance(expr, cst.Attribute) and isinstance(expr.value, cst.Attribute) and is_self(expr.value.value)
            and expr.value.attr.value == attr)

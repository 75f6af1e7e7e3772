"""Which submodules the project's optimizers train.

`DPOptimizer.step()` raises "Per sample gradient is not initialized" only for parameters in
its param groups. A linear probe trained with `torch.optim.SGD(model.head.parameters())`
never steps the backbone, so a backbone whose output is detached (or unused) cannot make
Opacus fail. When every optimizer built in the project is given explicit submodules'
parameters, the stop-gradient rules only consider those submodules.

Only files that build something from `torch.optim` are walked, and only when a rule asks.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import partial

import libcst as cst

from dp_lint.analysis.index import ModuleInfo, ProjectIndex
from dp_lint.files.syntax import calls_in, dotted_name, enclosing, is_self_attribute, walk_statements

# `model.parameters()` or anything dp-lint cannot read: every parameter may be optimized.
EVERYTHING = None


def optimized_attributes(index: ProjectIndex) -> set[str] | None:
    """Names of the submodules whose parameters the optimizers hold (`head` for
    `model.head.parameters()`), or None when some optimizer may hold any parameter (or
    the project builds no optimizer at all)."""
    names: set[str] = set()
    found_optimizer = False
    for module in index.by_file.values():
        text = module.file.text
        if "optim." not in text and "import optim" not in text:
            continue
        for call in calls_in(module.file.module):
            qualname = module.resolve_expr(call.func) if dotted_name(call.func) else None
            if not _is_optimizer(qualname):
                continue
            found_optimizer = True
            params = _params_argument(call)
            attrs = _attributes_of(params, partial(_stored_as, index, module, call))
            if attrs is EVERYTHING:
                return EVERYTHING
            names |= attrs
    return names if found_optimizer else EVERYTHING


def _is_optimizer(qualname: str | None) -> bool:
    if not qualname or not qualname.startswith("torch.optim."):
        return False
    last = qualname.rsplit(".", 1)[-1]
    return last[:1].isupper() and last not in {"Optimizer"} and "lr_scheduler" not in qualname


def _params_argument(call: cst.Call) -> cst.BaseExpression | None:
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == "params":
            return arg.value
    positional = [a for a in call.args if a.keyword is None]
    return positional[0].value if positional and not positional[0].star else None


def _stored_as(index: ProjectIndex, module: ModuleInfo, optimizer: cst.Call, name: str) -> str | None:
    """`student.parameters()` where the scope of the optimizer call also builds
    `DINO(student, teacher)` and `DINO.__init__` stores that argument as `self.student`: the
    attribute (`student`). None unless there is exactly one such construction and the name is
    handed to nothing else there (a name that is itself the private model stays EVERYTHING)."""
    function = enclosing(module.file.parents.get(optimizer), module.file.parents, cst.FunctionDef)
    holder: cst.CSTNode = function if function is not None else module.file.module
    stored: list[str] = []
    for call in calls_in(holder):
        if call is optimizer or not any(isinstance(a.value, cst.Name) and a.value.value == name for a in call.args):
            continue
        qualname = module.resolve_expr(call.func) if dotted_name(call.func) else None
        if qualname in {"copy.deepcopy", "copy.copy"}:
            continue  # another object (an EMA teacher): this one is not handed on
        attr = attribute_storing(index, module, call, name)
        if attr is None:
            return None
        stored.append(attr)
    return stored[0] if len(stored) == 1 else None


def attribute_storing(index: ProjectIndex, module: ModuleInfo, construction: cst.Call, name: str) -> str | None:
    """The attribute (`student`) under which the project class that `construction` builds
    (`DINO(student, teacher)`) stores the variable `name` it is given (`self.student = student` in
    `__init__`); None when it is not handed over exactly once, or not stored exactly once."""
    qualname = module.resolve_expr(construction.func) if dotted_name(construction.func) else None
    cls = index.lookup_class(qualname) if qualname else None
    init = cls.methods.get("__init__") if cls is not None else None
    given = [(position, arg) for position, arg in enumerate(construction.args)
             if isinstance(arg.value, cst.Name) and arg.value.value == name]
    if init is None or len(given) != 1 or any(a.star for a in construction.args):
        return None
    position, arg = given[0]
    params = [p.name.value for p in (*init.node.params.posonly_params, *init.node.params.params)][1:]
    param = arg.keyword.value if arg.keyword is not None else (params[position] if position < len(params) else None)
    return _self_attribute_storing(init.node, param) if param is not None else None


def _self_attribute_storing(init: cst.FunctionDef, param: str) -> str | None:
    """The `x` of the single `self.x = <param>` statement of `__init__`, or None."""
    found = []
    for stmt in walk_statements(init.body.body if isinstance(init.body, cst.IndentedBlock) else []):
        if isinstance(stmt, cst.SimpleStatementLine):
            for small in stmt.body:
                if (isinstance(small, cst.Assign) and len(small.targets) == 1 and is_self_attribute(small.targets[0].target)
                        and isinstance(small.value, cst.Name) and small.value.value == param):
                    target = small.targets[0].target
                    assert isinstance(target, cst.Attribute)
                    found.append(target.attr.value)
    return found[0] if len(found) == 1 else None


def _attributes_of(expr: cst.BaseExpression | None,
                   stored_as: Callable[[str], str | None] = lambda name: None) -> set[str] | None:
    """Submodule names whose parameters `expr` yields, or EVERYTHING."""
    if isinstance(expr, cst.Call) and isinstance(expr.func, cst.Attribute):
        if expr.func.attr.value in {"parameters", "named_parameters"}:
            receiver = expr.func.value
            if isinstance(receiver, cst.Attribute):
                return {receiver.attr.value}
            if isinstance(receiver, cst.Name) and not expr.args:
                # `student.parameters()` for the `student` a wrapper stores as `self.student`.
                attr = stored_as(receiver.value)
                if attr is not None:
                    return {attr}
            return EVERYTHING  # `model.parameters()`: the whole model
    if isinstance(expr, cst.Call) and dotted_name(expr.func) in {"list", "itertools.chain", "chain"}:
        parts = [_attributes_of(a.value, stored_as) for a in expr.args]
        known = [p for p in parts if p is not EVERYTHING]
        if parts and len(known) == len(parts):
            return set().union(*known)
        return EVERYTHING
    if isinstance(expr, cst.BinaryOperation) and isinstance(expr.operator, cst.Add):
        left, right = _attributes_of(expr.left, stored_as), _attributes_of(expr.right, stored_as)
        return EVERYTHING if left is EVERYTHING or right is EVERYTHING else left | right
    if isinstance(expr, (cst.List, cst.Tuple)):
        found: set[str] = set()
        for element in expr.elements:
            value = element.value
            if isinstance(value, cst.Dict):  # param groups: [{"params": m.head.parameters(), "lr": ...}]
                group = next((e.value for e in value.elements if isinstance(e, cst.DictElement)
                              and isinstance(e.key, cst.SimpleString) and e.key.evaluated_value == "params"), None)
                part = _attributes_of(group, stored_as)
            else:
                part = _attributes_of(value, stored_as)
            if part is EVERYTHING:
                return EVERYTHING
            found |= part
        return found
    return EVERYTHING


def not_optimized(optimized: set[str] | None, submodules: Iterable[str], attr: str) -> bool:
    """Is `attr` certainly left out of every optimizer? Only when the class is the one the
    optimizers name (it has one of the named submodules) and `attr` is not among them: a
    class nested deeper is trained through its parent's name."""
    if optimized is EVERYTHING or attr in optimized:
        return False
    return any(name in optimized for name in submodules)

"""Where else a submodule is used: methods that `forward` does not reach, subclasses."""

from __future__ import annotations

import libcst as cst

from dp_lint.analysis import knowledge as tk
from dp_lint.analysis.gradient_flow import FlowResult
from dp_lint.analysis.index import ClassInfo
from dp_lint.analysis.project import Project


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
            if _runs_attr(method.node, attr):
                return True
    return False


def _runs_attr(node: cst.CSTNode, attr: str) -> bool:
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

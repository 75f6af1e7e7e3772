"""DPL214 wrap-model-false-result: see README.md."""

from __future__ import annotations

from collections.abc import Iterator

import libcst as cst

from dp_lint.analysis.project import Project
from dp_lint.analysis.training import HOOKS_API, HooksAsModel, TrainingSetup
from dp_lint.catalogue.rule import FixAvailability, Rule
from dp_lint.config.opacus_versions import holds
from dp_lint.core.findings import Applicability, Confidence, Finding, Fix
from dp_lint.files.syntax import dotted_name
from dp_lint.fix.edits import FixUnavailable, make_fix, replace_nodes

_HOOKS = "wrap-model-false-returns-hooks"
_NO_KEYWORD = "make-private-rejects-wrap-model"
_HOOKS_ERROR = ("calling it raises `TypeError: 'GradSampleHooks' object is not callable`, and `.train()`, `.eval()`, "
                "`.parameters()`, `.to()`, `.state_dict()` raise `AttributeError: 'GradSampleHooks' object has no "
                "attribute ...` (measured, opacus 1.6.0)")
_KEYWORD_ERROR = "`TypeError: PrivacyEngine.make_private() got an unexpected keyword argument 'wrap_model'`"


class WrapModelFalseResult(Rule):
    code = "DPL214"
    name = "wrap-model-false-result"
    summary = ("The first result of make_private(..., wrap_model=False) used as the model: it is a GradSampleHooks "
               "object, TypeError/AttributeError")
    fix_availability = FixAvailability.SAFE
    opacus_behaviours = (_HOOKS, _NO_KEYWORD)

    def check(self, project: Project) -> Iterator[Finding]:
        version = project.opacus_version.version
        hooks = holds(_HOOKS, version)
        if not hooks and not holds(_NO_KEYWORD, version):
            return
        for setup in project.training_setups:
            uses = setup.hooks_used_as_model(project.index)
            if not uses:
                continue
            use = uses[0]
            engine = setup.engine.kind.value
            row = setup.engine.file.span(setup.engine.node)[0].row
            what = f"`{use.through}(...)` uses `{use.name}` as a model" if use.through else \
                f"`{use.name}` is called" if use.how == "called" else f"`{use.name}{use.how[1:-1]}` is called"
            if hooks:
                message = f"{what}, but `wrap_model=False` (line {row}) made `{use.name}` a hooks object: it raises."
                help_text = (f"With `wrap_model=False`, `{engine}` returns a `GradSampleHooks` object first (use it "
                             f"only for `.cleanup()`); the hooks sit on the module you passed, which keeps training: "
                             f"use that module, or bind the first result to `_`. Used as the model, {_HOOKS_ERROR}.")
                fix = _fix(setup, use)
            else:
                message = f"{what} after `wrap_model=False` (line {row}), which raises `TypeError` on opacus <1.5."
                help_text = (f"Opacus before 1.5 has no `wrap_model` parameter: the call raises {_KEYWORD_ERROR} "
                             f"(measured, opacus 1.4.1). Remove `wrap_model=False` and use the module `{engine}` "
                             f"returns, or upgrade to opacus >= 1.6, where the first result is a hooks object and the "
                             f"module you passed keeps training.")
                fix = None
            yield self.report(use.use, message, file=use.module.file, help=help_text, fix=fix,
                              confidence=Confidence.HIGH, behaviour=_HOOKS if hooks else _NO_KEYWORD)


def _fix(setup: TrainingSetup, use: HooksAsModel) -> Fix | None:
    """`model, optimizer, loader = make_private(module=model, ..., wrap_model=False)` -> `_, optimizer, loader = ...`:
    `model` stays the module that was passed, the one the hooks are on."""
    if use.module.file is not setup.engine.file or setup.targets is None:
        return None
    first = setup.targets[0]
    if first is None or "." in first or setup.argument_name("module") != first:
        return None
    if _hooks_api_used(setup, first) or _reads_underscore(setup):
        return None
    statement = setup.statement
    if not isinstance(statement, cst.SimpleStatementLine):
        return None
    assign = next((s for s in statement.body if isinstance(s, cst.Assign) and s.value is setup.engine.node), None)
    if assign is None or not isinstance(assign.targets[0].target, (cst.Tuple, cst.List)):
        return None
    element = assign.targets[0].target.elements[0]
    if not isinstance(element.value, cst.Name):
        return None
    file = setup.engine.file
    try:
        tree = replace_nodes(file.module, {element.value: cst.Name("_")}, file.parents)
        return make_fix(file.text, tree, Applicability.SAFE,
                        f"Bind the hooks object to `_`: `{first}` stays the module the hooks are on")
    except FixUnavailable:
        return None


def _hooks_api_used(setup: TrainingSetup, name: str) -> bool:
    """`name.cleanup()` (the hooks API) after the call: the name is also meant as the hooks object."""
    for node in _nodes_after(setup):
        if isinstance(node, cst.Attribute) and dotted_name(node.value) == name and node.attr.value in HOOKS_API:
            return True
    return False


def _reads_underscore(setup: TrainingSetup) -> bool:
    """Is `_` written after the call other than as a `for` or assignment target?"""
    targets: set[int] = set()
    names: list[cst.Name] = []
    for node in _nodes_after(setup):
        if isinstance(node, cst.For):
            targets.update(id(n) for n in _target_names(node.target))
        elif isinstance(node, cst.AssignTarget):
            targets.update(id(n) for n in _target_names(node.target))
        elif isinstance(node, cst.Name) and node.value == "_":
            names.append(node)
    return any(id(n) not in targets for n in names)


def _target_names(target: cst.BaseExpression) -> list[cst.Name]:
    if isinstance(target, cst.Name):
        return [target]
    if isinstance(target, (cst.Tuple, cst.List)):
        return [n for e in target.elements for n in _target_names(e.value)]
    return []


def _nodes_after(setup: TrainingSetup) -> Iterator[cst.CSTNode]:
    """Every node of the statements after the engine call (each once: nested statements are in `after` too)."""
    class _Collect(cst.CSTVisitor):
        def __init__(self) -> None:
            self.found: list[cst.CSTNode] = []

        def on_visit(self, node: cst.CSTNode) -> bool:
            self.found.append(node)
            return True

    seen: set[int] = set()
    for stmt in setup.after:
        collector = _Collect()
        stmt.visit(collector)
        for node in collector.found:
            if id(node) not in seen:
                seen.add(id(node))
                yield node

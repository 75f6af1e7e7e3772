"""Layers whose parameters serve two calls in one forward pass of a model wrapped in ghost mode
(`ghost_reused_layers`).

    class LM(nn.Module):
        def __init__(self):
            ...
            self.head.weight = self.emb.weight        # tied: one parameter, two calls per forward
        def forward(self, x):
            return self.head(self.block(self.emb(x)))

Ghost clipping computes the per-sample gradient norm of each `nn.Linear` and `nn.Embedding` from the activations
of one call. Its forward hook counts the calls each trainable parameter serves in the forward pass, and the second
one raises `NotImplementedError: Parameter tying is not supported with Ghost Clipping` (opacus 1.5.4 and 1.6.0,
`grad_sample_module_fast_gradient_clipping.py`; the check is `type(module) in NORM_SAMPLERS`, so subclasses of the
two layers are not counted). Hooks mode sums the calls' per-sample gradients and trains.

What is read, for each model a resolved `make_private*` call wraps with `grad_sample_mode="ghost"`:
- the model's trainable `nn.Linear`/`nn.Embedding` layers (the layer tree: `Project.layer_uses`), with the path of
  instances that hold each one;
- how often each forward pass calls it: at every level on the way up to the model, the calls of the attribute
  holding it (or another name for the same module, `self.b = self.a`) that the gradient flow of that level's class
  records with grad enabled and that certainly run — not under an `if`, a loop, a `try`, a lambda or a
  comprehension, and not after a `return` or `raise` written earlier in the function (the same for each inlined
  helper call that leads to it). The count is the product of the levels' counts: a layer called twice, or a block
  holding it called twice, is reported;
- ties: `self.<a>.<p> = self.<b>.<q>` between two such layers, in `__init__` (of the class or a base class) or in
  a method `__init__` calls as a statement, written under no `if` whose test the layer tree cannot fold to the
  branch taken; both layers must certainly be called.
A layer in a container (`nn.Sequential`, `nn.ModuleList`), a class whose forward dp-lint cannot analyse or that
reaches submodules dynamically, a frozen or maybe-frozen layer, a model kept in eval mode by a `train()` override,
and `nn.Embedding.from_pretrained` (frozen by default) produce nothing.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import libcst as cst

from dp_lint.analysis.engine_calls import EngineCall, GradSampleMode
from dp_lint.analysis.gradient_flow import CallSite
from dp_lint.analysis.index import ClassInfo
from dp_lint.analysis.knowledge import GHOST_NORM_SAMPLER_LAYERS
from dp_lint.analysis.layer_state import frozen_layer, kept_in_eval_mode
from dp_lint.analysis.layers import Instance, LayerUse
from dp_lint.analysis.models import Tri
from dp_lint.files.source import SourceFile
from dp_lint.files.syntax import dotted_name, is_self

# Nodes below which a statement may run zero times, or more than once.
_GUARDS = (cst.If, cst.IfExp, cst.Try, cst.TryStar, cst.For, cst.While, cst.Lambda, cst.ListComp, cst.SetComp,
           cst.DictComp, cst.GeneratorExp, cst.BooleanOperation, cst.Match)
_MAX_DEPTH = 12

if TYPE_CHECKING:
    from dp_lint.analysis.models import ModuleClass
    from dp_lint.analysis.project import PrivateModel, Project


@dataclass(frozen=True)
class GhostReusedLayer:
    """A trainable `nn.Linear`/`nn.Embedding` whose parameters serve two calls per forward pass in ghost mode.

    `path`: the layer in the model ("LM.head"); `layer`: "nn.Linear"; `engine`: the ghost-mode engine call.
    `calls`: how often one forward pass calls it (0 for a tie); `tied_to`: for a tie, the other layer's path.
    `node`, `file`: where to report: the second call (of the attribute counted twice), or the tie assignment."""

    path: str
    layer: str
    engine: EngineCall
    calls: int
    tied_to: str | None
    node: cst.CSTNode
    file: SourceFile


def ghost_reused_layers(project: Project) -> list[GhostReusedLayer]:
    found: list[GhostReusedLayer] = []
    seen: set[tuple[int, int]] = set()
    for model_layer in project.layer_uses:
        engine = model_layer.model.engine
        if engine is None or engine.grad_sample_mode is not GradSampleMode.GHOST:
            continue
        use = model_layer.use
        if not _counted_layer(project, use):
            continue
        chain = _call_chain(project, model_layer.model, use)
        if chain is None:
            continue
        calls = 1
        second: tuple[CallSite, ...] = ()
        for sites in chain:
            calls *= len(sites)
            if len(sites) > 1 and not second:
                second = sites
        if calls > 1:
            node = _where_calls_part(second[0], second[1])
            if (id(node), id(engine)) not in seen:
                seen.add((id(node), id(engine)))
                found.append(GhostReusedLayer(use.path, f"nn.{use.name}", engine, calls, None, node,
                                              project.file_of(node)))
    for tie in _ties(project):
        if (id(tie.node), id(tie.engine)) not in seen:
            seen.add((id(tie.node), id(tie.engine)))
            found.append(tie)
    return found


def _where_calls_part(first: CallSite, second: CallSite) -> cst.CSTNode:
    """The call where the second site's way down leaves the first's: `self.encode(doc)` when the helper
    `encode` calls the layer, the layer's own second call when both are written in one function."""
    def way(site: CallSite) -> list[cst.CSTNode]:
        return [*(node for node in site.context if isinstance(node, cst.Call)), site.node]

    for a, b in zip(way(first), way(second)):
        if a is not b:
            return b
    return second.node


def _counted_layer(project: Project, use: LayerUse) -> bool:
    """A trainable `nn.Linear`/`nn.Embedding` of exactly that class, in train mode, held by an attribute."""
    kind = use.kind
    if use.name not in GHOST_NORM_SAMPLER_LAYERS or kind.project_class is not None or kind.owns_parameters is not Tri.YES:
        return False
    if kind.via is not None and kind.via.startswith("a subclass"):
        return False
    if kind.call is not None and (dotted_name(kind.call.func) or "").endswith("from_pretrained"):
        return False
    if use.instance is None or frozen_layer(project, use) or kept_in_eval_mode(project, use):
        return False
    return _attribute_below(use.path, use.instance.path) is not None


def _attribute_below(path: str, prefix: str) -> str | None:
    """`Model.encoder` under `Model`: "encoder"; None for a deeper path or a container element."""
    if not path.startswith(prefix + "."):
        return None
    rest = path[len(prefix) + 1:]
    return rest if rest.isidentifier() else None


def _call_chain(project: Project, model: PrivateModel, use: LayerUse) -> list[tuple[CallSite, ...]] | None:
    """The certain calls of the attribute holding the layer at each level, from the model down to the
    layer's holder; None when some level is not certainly called, or cannot be read."""
    levels = _instances_to(project, model.instance, use.instance)
    if levels is None:
        return None
    chain: list[tuple[CallSite, ...]] = []
    for instance, below in zip(levels, [*levels[1:], None]):
        attr = _attribute_below(below.path if below is not None else use.path, instance.path)
        if attr is None:
            return None
        sites = _certain_calls(project, instance.cls, attr)
        if not sites:
            return None
        chain.append(sites)
    return chain


def _instances_to(project: Project, root: Instance, target: Instance | None) -> list[Instance] | None:
    """The instances from `root` down to `target` (both included), each a direct submodule of the one
    before; None when `target` is not reached that way."""
    if target is None:
        return None
    levels = [root]
    current = root
    while current.path != target.path:
        if current.depth > _MAX_DEPTH or not target.path.startswith(current.path + "."):
            return None
        following = [child for _, child in project.layer_tree.children(current)
                     if child.path == target.path or target.path.startswith(child.path + ".")]
        if len(following) != 1:
            return None  # not reached, or alternatives
        current = following[0]
        levels.append(current)
    return levels


def _certain_calls(project: Project, cls: ClassInfo, attr: str) -> tuple[CallSite, ...]:
    """The calls of `self.<attr>` (or of another attribute naming the same module) in `cls`'s forward that
    certainly run in every forward pass; empty when the forward cannot be read."""
    flow = project.gradient_flow(cls)
    if not flow.analyzed or flow.dynamic_access:
        return ()
    model = project.modules.model(cls)
    if model.dynamic_attributes:
        return ()
    target = _alias_root(model, attr)
    names = {name for name in model.submodules if _alias_root(model, name) == target} | {attr}
    if names & flow.escaped or names & flow.uncertain_calls:
        return ()
    sites = [site for site in flow.call_sites if site.attr in names]
    certain = tuple(site for site in sites if certainly_runs(project, site))
    return certain


def _alias_root(model: ModuleClass, attr: str) -> str:
    seen: set[str] = set()
    while attr not in seen:
        seen.add(attr)
        sub = model.submodules.get(attr)
        if sub is None or sub.alias_of is None:
            return attr
        attr = sub.alias_of
    return attr


def certainly_runs(project: Project, site: CallSite) -> bool:
    """Does the call run once in every forward pass: the call itself and each inlined call leading to it?"""
    nodes: list[cst.CSTNode] = [node for node in site.context if isinstance(node, cst.Call)]
    nodes.append(site.node)
    for node in nodes:
        try:
            file = project.file_of(node)
        except ValueError:
            return False
        if not _unguarded(node, file.parents):
            return False
    return True


def _unguarded(node: cst.CSTNode, parents: Mapping[cst.CSTNode, cst.CSTNode]) -> bool:
    """Is `node` in its function outside any branch, loop or lambda, with no `return`/`raise` before the
    statement holding it?"""
    statement, current = node, node
    parent = parents.get(current)
    while parent is not None and not isinstance(parent, cst.FunctionDef):
        if isinstance(parent, _GUARDS):
            return False
        statement, current, parent = current, parent, parents.get(parent)
    if parent is None:
        return False
    return _first_exit_after(parent, statement)


def _first_exit_after(function: cst.FunctionDef, statement: cst.CSTNode) -> bool:
    """Is `statement` one of `function`'s top-level statements, with no `return`/`raise` before it?"""
    statements: list[cst.CSTNode] = list(_top_level(function))
    if statement not in statements:
        return False
    return not any(_exits(stmt) for stmt in statements[:statements.index(statement)])


def _exits(node: cst.CSTNode) -> bool:
    if isinstance(node, (cst.Return, cst.Raise)):
        return True
    if isinstance(node, (cst.FunctionDef, cst.ClassDef, cst.Lambda)):
        return False
    return any(_exits(child) for child in node.children)


# -- ties ---------------------------------------------------------------------------------------


def _ties(project: Project) -> Iterator[GhostReusedLayer]:
    """`self.<a>.<p> = self.<b>.<q>` between two counted, certainly called layers of a ghost-mode model."""
    models: dict[int, tuple[PrivateModel, dict[str, LayerUse]]] = {}
    for model_layer in project.layer_uses:
        engine = model_layer.model.engine
        if engine is None or engine.grad_sample_mode is not GradSampleMode.GHOST or model_layer.use.instance is None:
            continue
        entry = models.setdefault(id(model_layer.model), (model_layer.model, {}))
        entry[1][model_layer.use.path] = model_layer.use
    for model, uses in models.values():
        assert model.engine is not None
        holders: dict[str, Instance] = {}  # every instance on the way down to a layer may write a tie
        for use in uses.values():
            for instance in _instances_to(project, model.instance, use.instance) or ():
                holders.setdefault(instance.path, instance)
        for instance in holders.values():
            for statement, target, value, file in _tie_assignments(project, instance):
                left, right = uses.get(f"{instance.path}.{target}"), uses.get(f"{instance.path}.{value}")
                if left is None or right is None or left is right:
                    continue
                if all(_counted_layer(project, u) and _call_chain(project, model, u) is not None for u in (left, right)):
                    yield GhostReusedLayer(left.path, f"nn.{left.name}", model.engine, 0, right.path, statement, file)


def _tie_assignments(project: Project, instance: Instance) -> Iterator[tuple[cst.CSTNode, str, str, SourceFile]]:
    """(statement, module path of the target, module path of the value, file) of each
    `self.<a...>.<p> = self.<b...>.<q>` that certainly runs when `instance` is built."""
    for owner in project.index.mro(instance.cls):
        init = owner.methods.get("__init__")
        if init is None:
            continue
        bodies = [init.node]
        for stmt in _top_level(init.node):
            called = _self_method_statement(stmt)
            method = _method(project, instance.cls, called) if called else None
            if method is not None and method is not init.node:
                bodies.append(method)
        for body in bodies:
            parents = owner.file.parents if body is init.node else project.file_of(body).parents
            file = owner.file if body is init.node else project.file_of(body)
            for assign in _assignments(body):
                if len(assign.targets) != 1:
                    continue
                target = _module_path(assign.targets[0].target)
                value = _module_path(assign.value)
                if target is None or value is None or target == value:
                    continue
                if not _runs_for(project, assign, body, parents, instance, owner):
                    continue
                yield parents.get(assign, assign), target, value, file


def _top_level(function: cst.FunctionDef) -> list[cst.BaseStatement]:
    return list(function.body.body) if isinstance(function.body, cst.IndentedBlock) else []


def _self_method_statement(stmt: cst.CSTNode) -> str | None:
    """`self.<name>()` written as a statement of its own."""
    if not isinstance(stmt, cst.SimpleStatementLine) or len(stmt.body) != 1 or not isinstance(stmt.body[0], cst.Expr):
        return None
    call = stmt.body[0].value
    if isinstance(call, cst.Call) and isinstance(call.func, cst.Attribute) and is_self(call.func.value):
        return call.func.attr.value
    return None


def _method(project: Project, cls: ClassInfo, name: str) -> cst.FunctionDef | None:
    for owner in project.index.mro(cls):
        method = owner.methods.get(name)
        if method is not None:
            return method.node
    return None


def _assignments(node: cst.CSTNode) -> Iterator[cst.Assign]:
    if isinstance(node, cst.Assign):
        yield node
    for child in node.children:
        if not isinstance(child, (cst.FunctionDef, cst.ClassDef, cst.Lambda)):
            yield from _assignments(child)


def _module_path(expr: cst.BaseExpression) -> str | None:
    """`self.a.b.weight` -> "a.b" (the module whose parameter it is)."""
    parts: list[str] = []
    while isinstance(expr, cst.Attribute):
        parts.append(expr.attr.value)
        expr = expr.value
    if not is_self(expr) or len(parts) < 2:
        return None
    return ".".join(reversed(parts[1:]))


def _runs_for(project: Project, assign: cst.Assign, function: cst.FunctionDef, parents: Mapping[cst.CSTNode, cst.CSTNode], instance: Instance,
              owner: ClassInfo) -> bool:
    """Does the assignment run when `instance` is built: under no guard but `if`s whose test folds to the
    branch it is in, and after no `return`/`raise`?"""
    statement: cst.CSTNode = assign
    current: cst.CSTNode = assign
    parent = parents.get(current)
    while parent is not None and parent is not function:
        if isinstance(parent, cst.If):
            outcome = current is parent.body
            if not outcome and current is not parent.orelse:
                return False  # the test itself
            value = project.layer_tree.evaluate(parent.test, instance, owner)
            if not isinstance(value, (bool, int, str, float, type(None))) or bool(value) != outcome:
                return False
        elif isinstance(parent, cst.Else):
            pass
        elif isinstance(parent, _GUARDS):
            return False
        statement, current, parent = current, parent, parents.get(parent)
    if parent is None:
        return False
    # Under a folded `if`, the top-level statement is the outermost `if`.
    top = statement if statement in _top_level(function) else _top_statement(function, assign, parents)
    return top is not None and _first_exit_after(function, top)


def _top_statement(function: cst.FunctionDef, node: cst.CSTNode, parents: Mapping[cst.CSTNode, cst.CSTNode]) -> cst.CSTNode | None:
    top = _top_level(function)
    current: cst.CSTNode | None = node
    while current is not None and current not in top:
        current = parents.get(current)
    return current

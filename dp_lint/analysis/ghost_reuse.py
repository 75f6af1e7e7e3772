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
- ties: `<a>.<p> = <b>.<q>` between two such layers, in `__init__` (of the class or a base class) or in a method
  it calls as a statement (three calls deep, the most derived override: `post_init()` -> `tie_weights()` ->
  `_tie_or_clone_weights(out, inp)`), where `<a>` and `<b>` are `self.<path>`, a getter that is one
  `return self.<path>` (`self.get_output_embeddings()`), or a local name or parameter holding one; written under
  no `if` whose test cannot be folded to the branch taken (the layer tree's reading of the configuration, `<name>
  is not None`), after no `return` or `raise`; both layers must certainly be called.
A layer in a container (`nn.Sequential`, `nn.ModuleList`), a class whose forward dp-lint cannot analyse or that
reaches submodules dynamically, a frozen or maybe-frozen layer, a model kept in eval mode by a `train()` override,
and `nn.Embedding.from_pretrained` (frozen by default) produce nothing.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
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
from dp_lint.files.syntax import assignments_in, dotted_name, function_params, is_self

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
    return _counts_forwards(project, use) and use.instance is not None \
        and _attribute_below(use.path, use.instance.path) is not None


def _counts_forwards(project: Project, use: LayerUse) -> bool:
    """A trainable `nn.Linear`/`nn.Embedding` of exactly that class, in train mode: ghost clipping counts the
    forward passes its parameters serve."""
    kind = use.kind
    if use.name not in GHOST_NORM_SAMPLER_LAYERS or kind.project_class is not None or kind.owns_parameters is not Tri.YES:
        return False
    if kind.via is not None and kind.via.startswith("a subclass"):
        return False
    if kind.call is not None and (dotted_name(kind.call.func) or "").endswith("from_pretrained"):
        return False
    return use.instance is not None and not frozen_layer(project, use) and not kept_in_eval_mode(project, use)


def counted_layer_of(project: Project, engine: EngineCall) -> str | None:
    """The path of a layer of the model `engine` wraps whose forward passes ghost clipping counts (a trainable
    `nn.Linear`/`nn.Embedding` of exactly that class, not frozen, not kept in eval mode), or None."""
    return next((m.use.path for m in project.layer_uses if m.model.engine is engine and _counts_forwards(project, m.use)),
                None)


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
    """(statement, module path of the target, module path of the value, file) of each tie that certainly runs
    when `instance` is built, in the `__init__` of its class or a base class."""
    for owner in project.index.mro(instance.cls):
        init = owner.methods.get("__init__")
        if init is not None:
            walk = _TieWalk(project, instance)
            walk.method(init.node, owner, {}, 0)
            yield from walk.found


_NONE = ""  # what a name holds when it was given `None` (a getter's `return None`)


class _TieWalk:
    """The statements of `__init__` that certainly run, in order, and of the methods of the model it calls as
    statements (`self.post_init()`, then `self.tie_weights()`, ...; the most derived override, three calls deep):
    the module each local name and parameter holds (`self.lm_head`, `self.get_output_embeddings()` when that getter
    is one `return self.<path>`), and the ties `<module>.<p> = <module>.<q>` between them. An `if` is entered
    only when its test folds (the layer tree's reading of the configuration, `<name> is not None`); a `return` or
    `raise` ends what certainly runs."""

    def __init__(self, project: Project, instance: Instance) -> None:
        self.project = project
        self.instance = instance
        self.found: list[tuple[cst.CSTNode, str, str, SourceFile]] = []

    def method(self, function: cst.FunctionDef, owner: ClassInfo, names: dict[str, str], depth: int) -> None:
        local = ({p.name.value for p in function_params(function)} | set(assignments_in(_top_level(function)))) - {"self"}
        self._statements(_top_level(function), owner, names, local if depth else set(), depth)

    def _statements(self, statements: Sequence[cst.CSTNode], owner: ClassInfo, names: dict[str, str],
                    local: set[str], depth: int) -> bool:
        """Walk `statements`; False when what follows them does not certainly run."""
        for stmt in statements:
            if isinstance(stmt, cst.If):
                taken = self._fold(stmt.test, owner, names, local)
                if taken is None:
                    if _exits(stmt):
                        return False
                    continue
                branch: Sequence[cst.CSTNode] = (
                    _block(stmt.body) if taken else [stmt.orelse] if isinstance(stmt.orelse, cst.If)
                    else _block(stmt.orelse.body) if stmt.orelse is not None else [])
                if not self._statements(branch, owner, names, local, depth):
                    return False
            elif isinstance(stmt, cst.SimpleStatementLine):
                for small in stmt.body:
                    if isinstance(small, (cst.Return, cst.Raise)):
                        return False
                    if isinstance(small, cst.Assign) and len(small.targets) == 1:
                        self._assign(stmt, small.targets[0].target, small.value, owner, names, depth)
                    elif isinstance(small, cst.Expr) and isinstance(small.value, cst.Call):
                        self._call(small.value, owner, names, depth)
            elif _exits(stmt):
                return False  # a loop, `with` or `try` that may return: what follows may not run
        return True

    def _assign(self, stmt: cst.CSTNode, target: cst.BaseExpression, value: cst.BaseExpression, owner: ClassInfo,
                names: dict[str, str], depth: int) -> None:
        if isinstance(target, cst.Name):
            held = self._module(value, owner, names, depth)
            if held is None:
                names.pop(target.value, None)
            else:
                names[target.value] = held
            return
        if not (isinstance(target, cst.Attribute) and isinstance(value, cst.Attribute)):
            return
        left, right = self._module(target.value, owner, names, depth), self._module(value.value, owner, names, depth)
        if left and right and left != right:
            self.found.append((stmt, left, right, self.project.file_of(stmt)))

    def _call(self, call: cst.Call, owner: ClassInfo, names: dict[str, str], depth: int) -> None:
        """`self.<method>(...)`: walk the method with its parameters bound to the modules the arguments hold."""
        resolved = self._self_method(call, depth)
        if resolved is None or any(a.star for a in call.args):
            return
        function, method_owner = resolved
        params = [p.name.value for p in (*function.params.posonly_params, *function.params.params)][1:]
        bound: dict[str, str] = {}
        for position, arg in enumerate(call.args):
            param = arg.keyword.value if arg.keyword is not None else params[position] if position < len(params) else None
            held = self._module(arg.value, owner, names, depth) if param is not None else None
            if param is not None and held is not None:
                bound[param] = held
        self.method(function, method_owner, bound, depth + 1)

    def _self_method(self, call: cst.Call, depth: int) -> tuple[cst.FunctionDef, ClassInfo] | None:
        func = call.func
        if depth >= 3 or not isinstance(func, cst.Attribute) or not is_self(func.value):
            return None
        for owner in self.project.index.mro(self.instance.cls):
            method = owner.methods.get(func.attr.value)
            if method is not None:
                return method.node, owner
        return None

    def _module(self, expr: cst.BaseExpression, owner: ClassInfo, names: dict[str, str], depth: int) -> str | None:
        """The module path below the instance that `expr` holds (`"model.embed_tokens"`), `_NONE`, or None."""
        if isinstance(expr, cst.Name):
            return _NONE if expr.value == "None" else names.get(expr.value)
        if isinstance(expr, cst.Attribute):
            parts: list[str] = []
            current: cst.BaseExpression = expr
            while isinstance(current, cst.Attribute):
                parts.append(current.attr.value)
                current = current.value
            return ".".join(reversed(parts)) if is_self(current) else None
        if isinstance(expr, cst.Call) and not expr.args:
            resolved = self._self_method(expr, depth)
            body = _top_level(resolved[0]) if resolved is not None else []
            returned = body[-1] if len(body) == 1 or (len(body) == 2 and _docstring(body[0])) else None
            if isinstance(returned, cst.SimpleStatementLine) and len(returned.body) == 1 \
                    and isinstance(returned.body[0], cst.Return) and returned.body[0].value is not None:
                assert resolved is not None
                return self._module(returned.body[0].value, resolved[1], {}, depth + 1)
        return None

    def _fold(self, test: cst.BaseExpression, owner: ClassInfo, names: dict[str, str], local: set[str]) -> bool | None:
        """The branch an `if` test takes when the instance is built, or None."""
        if isinstance(test, cst.BooleanOperation):
            left, right = self._fold(test.left, owner, names, local), self._fold(test.right, owner, names, local)
            decided = False if isinstance(test.operator, cst.And) else True
            if decided in (left, right):
                return decided
            return None if left is None or right is None else not decided
        if isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
            inner = self._fold(test.expression, owner, names, local)
            return None if inner is None else not inner
        if isinstance(test, cst.Comparison) and len(test.comparisons) == 1 and isinstance(test.left, cst.Name) \
                and isinstance(test.comparisons[0].comparator, cst.Name) and test.comparisons[0].comparator.value == "None" \
                and isinstance(test.comparisons[0].operator, (cst.Is, cst.IsNot)) and test.left.value in names:
            return (names[test.left.value] == _NONE) == isinstance(test.comparisons[0].operator, cst.Is)
        if any(isinstance(node, cst.Name) and node.value in local for node in _names_in(test)):
            return None  # a local of a method: the layer tree reads only `__init__`'s names
        value = self.project.layer_tree.evaluate(test, self.instance, owner)
        return bool(value) if isinstance(value, (bool, int, str, float, type(None))) else None


def _top_level(function: cst.FunctionDef) -> list[cst.BaseStatement]:
    return list(function.body.body) if isinstance(function.body, cst.IndentedBlock) else []


def _block(body: cst.BaseSuite) -> Sequence[cst.CSTNode]:
    return body.body if isinstance(body, cst.IndentedBlock) else [body]


def _docstring(stmt: cst.CSTNode) -> bool:
    return isinstance(stmt, cst.SimpleStatementLine) and len(stmt.body) == 1 and isinstance(stmt.body[0], cst.Expr) \
        and isinstance(stmt.body[0].value, (cst.SimpleString, cst.ConcatenatedString))


def _names_in(node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    yield node
    for child in node.children:
        yield from _names_in(child)

"""Shared logic of the static twins of Opacus' ModuleValidator (DPL101-DPL103)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import libcst as cst

from dp_lint.analysis import knowledge as tk
from dp_lint.analysis.constants import literal
from dp_lint.analysis.engine_calls import EngineCall
from dp_lint.analysis.index import ModuleInfo
from dp_lint.analysis.layer_state import frozen_layer
from dp_lint.analysis.layers import LayerUse
from dp_lint.analysis.models import ModuleClass, Tri
from dp_lint.analysis.project import Project
from dp_lint.analysis.values import UNKNOWN
from dp_lint.core.findings import Confidence
from dp_lint.files.source import SourceFile
from dp_lint.files.syntax import argument, assignments_in, bind_call, calls_in, dotted_name, enclosing, function_params


@dataclass(frozen=True)
class RefusedLayer:
    """A layer `make_private` refuses (`refused_layers`). It knows where it is (`node`, `file`),
    so a rule reports it directly: `self.report(refused, message, confidence=refused.confidence)`."""

    use: LayerUse
    call: cst.Call  # the layer's construction call
    module: ModuleInfo  # the module whose code writes `call`
    # High when the model is wrapped by a resolved engine call; medium when the wrapped
    # model is not known (no engine call, or an unresolved one).
    confidence: Confidence
    where: str  # for help texts: "wrapped by `make_private` at path/to/train.py:40", ...
    engine: EngineCall | None = None  # the engine call wrapping the model, when resolved

    @property
    def node(self) -> cst.Call:
        return self.call

    def refused_by(self) -> str:
        """For short messages: "`make_private` at train.py:40" (the engine call that refuses the
        layer, its line alone when in the layer's file), or "make_private" when no engine call
        is resolved or the model is wrapped by a bare GradSampleModule."""
        if self.engine is None or not self.engine.kind.makes_private:
            return "make_private"
        return f"`{self.engine.kind.value}` at {self.engine.short_label(self.file)}"

    @property
    def file(self) -> SourceFile:
        return self.module.file


def refused_layers(project: Project, accept: Callable[[LayerUse], bool]) -> Iterator[RefusedLayer]:
    """Layers that `make_private` refuses, in the models it wraps.

    ModuleValidator checks only modules that own trainable parameters, and a model that
    passes through `ModuleValidator.fix(...)` before the engine has them replaced.
    """
    # A layer that every alternative model of an engine call holds is refused whichever is built.
    alternatives_holding: dict[tuple[int, int], set[str]] = {}
    for layer in project.layer_uses:
        engine = layer.model.engine
        if engine is not None and engine.alternatives and layer.use.call is not None:
            alternatives_holding.setdefault((id(engine.node), id(layer.use.call)), set()).add(layer.model.instance.cls.name)
    for layer in project.layer_uses:
        use, model = layer.use, layer.model
        if use.call is None or use.module is None or not accept(use):
            continue
        if use.kind.owns_parameters is not Tri.YES:
            continue
        if model.engine is not None:
            engine = model.engine
            if engine.validator_fixed:
                continue
            where = f"wrapped by `{engine.kind.value}` at {engine.label()}"
            if engine.alternatives:
                holding = alternatives_holding.get((id(engine.node), id(use.call)), set())
                if holding < set(engine.alternatives):
                    yield RefusedLayer(use, use.call, use.module, Confidence.MEDIUM, where + engine.alternative_text(),
                                       engine)
                    continue
            yield RefusedLayer(use, use.call, use.module, Confidence.HIGH, where, engine)
        else:
            if project.calls_validator_fix:
                continue
            yield RefusedLayer(use, use.call, use.module, Confidence.MEDIUM,
                               "in a model the project may wrap with make_private")


@dataclass(frozen=True)
class LibraryModel:
    """A well-known library model handed to an engine call (`make_private(module=resnet18())`),
    whose layers the knowledge tables know (`knowledge.TORCHVISION_BATCHNORM_MODELS`)."""

    engine: EngineCall
    qualname: str  # "torchvision.models.resnet18"
    construction: cst.Call  # the builder call: where `ModuleValidator.fix(...)` goes
    module: ModuleInfo  # the module whose code writes both calls


def library_models_with_batchnorm(project: Project) -> Iterator[LibraryModel]:
    """Engine calls whose model is a torchvision classification model with BatchNorm (default
    `norm_layer`), built right there or assigned once to the name handed to the engine, and not
    passed through `ModuleValidator.fix` (or any other call) on the way."""
    for engine in project.engine_calls:
        if engine.wrapped is not None or engine.validator_fixed:
            continue
        module = project.index.by_file.get(engine.file)
        if module is None:
            continue
        argument = _wrapped_argument(engine)
        construction = _construction(engine, argument)
        if construction is None:
            continue
        qualname = module.resolve_expr(construction.func)
        key = tk.torchvision_model(qualname) if qualname else None
        if key is None or key not in tk.TORCHVISION_BATCHNORM_MODELS:
            continue
        if any(a.star or (a.keyword is not None and a.keyword.value == "norm_layer") for a in construction.args):
            continue
        yield LibraryModel(engine, key, construction, module)


def _wrapped_argument(engine: EngineCall) -> cst.BaseExpression | None:
    call = engine.node
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value in {"module", "m"}:
            return arg.value
    if engine.kind.value.startswith("make_private"):
        return None
    positional = [a for a in call.args if a.keyword is None and not a.star]
    return positional[0].value if positional else None


def _construction(engine: EngineCall, argument: cst.BaseExpression | None) -> cst.Call | None:
    if isinstance(argument, cst.Call):
        return argument
    if not isinstance(argument, cst.Name):
        return None
    file = engine.file
    scope: cst.CSTNode = enclosing(engine.node, file.parents, cst.FunctionDef) or file.module
    body = scope.body.body if isinstance(scope, cst.FunctionDef) and isinstance(scope.body, cst.IndentedBlock) \
        else (file.module.body if scope is file.module else [])
    values = assignments_in(body).get(argument.value, [])
    if len(values) != 1 or not isinstance(values[0], cst.Call):
        return None
    for call in calls_in(scope):
        if call is engine.node:
            continue
        if any(isinstance(a.value, cst.Name) and a.value.value == argument.value for a in call.args):
            return None  # `model = convert(model)`-like hand-offs: dp-lint cannot tell what they do
    return values[0]


# -- what ModuleValidator.fix makes of BatchNorm1d on [batch, features] -----------------------------

# Layers whose output is [batch, features] whatever their input's rank beyond the batch: what
# follows them in a Sequential gets 2-D features. (nn.Flatten only with its defaults.)
_TWO_DIMENSIONAL_LAYERS = {"torch.nn.Linear", "torch.nn.LazyLinear", "torch.nn.Flatten"}
_SEQUENTIAL = "torch.nn.Sequential"


@dataclass(frozen=True)
class CollapsingNorm:
    """A trainable `BatchNorm1d(C)` fed `[batch, C]` features in a model that goes through
    `ModuleValidator.fix` before the engine, with C dividing 32: the fix gives `GroupNorm(C, C)`,
    whose groups hold one value each, so the layer outputs its bias (`collapsing_batch_norms`)."""

    use: LayerUse
    call: cst.Call  # the BatchNorm1d construction
    module: ModuleInfo  # where the call is written
    engine: EngineCall  # the engine call the fixed model goes to
    channels: int  # C (and the GroupNorm's number of groups)
    fed_by: str  # what gives it [batch, C]: "nn.Linear", "`self.fc(...)`", "`x.flatten(1)`"
    # Every fact was seen: the engine call is resolved, C is an int, the input's rank is written.
    confidence: Confidence = Confidence.HIGH

    @property
    def node(self) -> cst.Call:
        return self.call

    @property
    def file(self) -> SourceFile:
        return self.module.file


def collapsing_batch_norms(project: Project) -> Iterator[CollapsingNorm]:
    """Trainable `BatchNorm1d(C)` layers, with C a resolved int dividing 32, fed 2-D features
    (right after `nn.Linear`/`nn.Flatten` in a `nn.Sequential` or a list of layers made into one,
    or called in `forward` on a `Linear`'s output or a `flatten(1)`/`view(B, -1)`), in a model an
    engine call receives through `ModuleValidator.fix(...)` (which turns it into
    `GroupNorm(gcd(32, C), C)`). None when that fix call passes options (`num_groups=`, ...)."""
    seen: set[int] = set()
    for layer in project.layer_uses:
        use, engine = layer.use, layer.model.engine
        call, module = use.call, use.module
        if use.name != "BatchNorm1d" or not use.direct or call is None or module is None or id(call) in seen:
            continue
        if engine is None or not engine.validator_fixed or engine.validator_fix_options or engine.alternatives:
            continue  # `fix(model, num_groups=G)` makes GroupNorm(G, C)
        if use.kind.owns_parameters is not Tri.YES or frozen_layer(project, use):
            continue  # ModuleValidator.fix only replaces layers with trainable parameters
        channels = _channels(project, use, call, module)
        if not isinstance(channels, int) or isinstance(channels, bool) or channels <= 0 or 32 % channels:
            continue
        fed_by = _two_dimensional_input(project, use, call, module)
        if fed_by is None:
            continue
        seen.add(id(call))
        yield CollapsingNorm(use, call, module, engine, channels, fed_by)


def _channels(project: Project, use: LayerUse, call: cst.Call, module: ModuleInfo) -> object:
    """The layer's `num_features`: its resolved setting, or, for a layer built in a module-level
    helper (`def mlp(in_dim, hidden): ... nn.BatchNorm1d(hidden)`) from one of its parameters,
    the value every call of the helper in the project passes (UNKNOWN when they differ)."""
    tree = project.layer_tree
    value = tree.setting(use, "num_features", 0, UNKNOWN)
    expr = argument(call, "num_features", 0)
    if value is not UNKNOWN or not isinstance(expr, cst.Name):
        return value
    parents = module.file.parents
    function = enclosing(call, parents, cst.FunctionDef)
    if function is None or enclosing(function, parents, cst.ClassDef) is not None:
        return UNKNOWN
    name = expr.value
    params = {p.name.value: p for p in function_params(function)}
    body = function.body.body if isinstance(function.body, cst.IndentedBlock) else []
    if name not in params or name in assignments_in(body):
        return UNKNOWN
    qualname = f"{module.name}.{function.name.value}"
    found: list[object] = []
    for file in project.files:
        info = project.index.by_file.get(file)
        if info is None or function.name.value not in file.text:
            continue
        for site in calls_in(file.module):
            if dotted_name(site.func) is None or info.resolve_expr(site.func) != qualname:
                continue

            def evaluate(arg: cst.BaseExpression, info: ModuleInfo = info, site: cst.Call = site) -> object:
                if use.instance is not None and use.owner is not None and use.owner.module is info:
                    bound = tree.evaluate(arg, use.instance, use.owner)
                    if bound is not UNKNOWN:
                        return bound
                return tree.values.at(info, site).evaluate(arg)

            def default(param: cst.Param | None) -> object:
                return literal(param.default, module) if param is not None and param.default is not None else UNKNOWN

            found.append(bind_call(function, site, evaluate, default).get(name, UNKNOWN))
    if not found or any(v is UNKNOWN for v in found) or len({repr(v) for v in found}) != 1:
        return UNKNOWN
    return found[0]


def _two_dimensional_input(project: Project, use: LayerUse, call: cst.Call, module: ModuleInfo) -> str | None:
    """What feeds the layer `[batch, C]` features, for messages; None when unknown."""
    parents = module.file.parents
    before = _previous_sibling(call, parents, module)
    if before is not None:
        qualname = module.resolve_expr(before.func) if isinstance(before, cst.Call) else None
        if qualname in _TWO_DIMENSIONAL_LAYERS and isinstance(before, cst.Call) and _default_flatten(before, qualname):
            return "nn." + qualname.rsplit(".", 1)[-1]
        return None
    return _fed_in_forward(project, use, call, module)


def _default_flatten(call: cst.Call, qualname: str) -> bool:
    return qualname != "torch.nn.Flatten" or not call.args


def _previous_sibling(call: cst.Call, parents: dict, module: ModuleInfo) -> cst.BaseExpression | None:
    """The layer written right before `call` in `nn.Sequential(...)`'s arguments, in a list of
    layers made into a Sequential (`nn.Sequential(*layers)`), or in the `layers.append(...)`
    statement just before; None when there is none or the order is not plain."""
    parent = parents.get(call)
    if isinstance(parent, cst.Arg):
        holder = parents.get(parent)
        if not isinstance(holder, cst.Call):
            return None
        if module.resolve_expr(holder.func) == _SEQUENTIAL and parent.keyword is None and not parent.star:
            args = list(holder.args)
            index = args.index(parent)
            previous = args[index - 1] if index else None
            if previous is not None and previous.keyword is None and not previous.star:
                return previous.value
            return None
        if isinstance(holder.func, cst.Attribute) and holder.func.attr.value == "append" and len(holder.args) == 1:
            return _appended_before(holder, parents, module)
        return None
    if isinstance(parent, cst.Element) and not isinstance(parent, cst.StarredElement):
        container = parents.get(parent)
        if not isinstance(container, (cst.List, cst.Tuple)) or not _made_into_sequential(container, parents, module):
            return None
        elements = list(container.elements)
        index = elements.index(parent)
        element = elements[index - 1] if index else None
        if isinstance(element, cst.Element):
            return element.value
    return None


def _appended_before(append: cst.Call, parents: dict, module: ModuleInfo) -> cst.BaseExpression | None:
    """`layers.append(nn.Linear(...))` as the statement right before `layers.append(<call>)`, with
    `nn.Sequential(*layers)` in the same function."""
    assert isinstance(append.func, cst.Attribute)
    target = dotted_name(append.func.value)
    statement = enclosing(append, parents, cst.SimpleStatementLine)
    block = parents.get(statement) if statement is not None else None
    if target is None or statement is None or not isinstance(block, (cst.IndentedBlock, cst.Module)):
        return None
    if not isinstance(statement.body[0], cst.Expr) or statement.body[0].value is not append:
        return None
    body = list(block.body)
    index = body.index(statement)
    if index == 0 or not _sequential_of(target, block, module):
        return None
    previous = body[index - 1]
    if not isinstance(previous, cst.SimpleStatementLine) or len(previous.body) != 1:
        return None
    expr = previous.body[0]
    if not isinstance(expr, cst.Expr) or not isinstance(expr.value, cst.Call):
        return None
    prior = expr.value
    if (isinstance(prior.func, cst.Attribute) and prior.func.attr.value == "append"
            and dotted_name(prior.func.value) == target and len(prior.args) == 1 and not prior.args[0].star):
        return prior.args[0].value
    return None


def _made_into_sequential(container: cst.BaseExpression, parents: dict, module: ModuleInfo) -> bool:
    """Is the list `nn.Sequential(*[...])`'s, or assigned to (or appended, added to) a name that
    `nn.Sequential(*name)` takes in the same function?"""
    parent = parents.get(container)
    if isinstance(parent, cst.Arg) and parent.star == "*":
        holder = parents.get(parent)
        return isinstance(holder, cst.Call) and module.resolve_expr(holder.func) == _SEQUENTIAL
    name: str | None = None
    if isinstance(parent, cst.Assign) and len(parent.targets) == 1:
        name = dotted_name(parent.targets[0].target)
    elif isinstance(parent, cst.AugAssign) and isinstance(parent.operator, cst.AddAssign):
        name = dotted_name(parent.target)
    elif isinstance(parent, cst.Arg):
        holder = parents.get(parent)
        if isinstance(holder, cst.Call) and isinstance(holder.func, cst.Attribute) and \
                holder.func.attr.value in {"extend", "append"}:
            name = dotted_name(holder.func.value)
    if name is None:
        return False
    scope: cst.CSTNode = enclosing(container, parents, cst.FunctionDef) or module.file.module
    return _sequential_of(name, scope, module)


def _sequential_of(name: str, scope: cst.CSTNode, module: ModuleInfo) -> bool:
    """Does `scope` build `nn.Sequential(*name)`?"""
    for call in calls_in(scope):
        if module.resolve_expr(call.func) == _SEQUENTIAL and len(call.args) == 1 and call.args[0].star == "*" \
                and dotted_name(call.args[0].value) == name:
            return True
    return False


def _fed_in_forward(project: Project, use: LayerUse, call: cst.Call, module: ModuleInfo) -> str | None:
    """`self.bn = nn.BatchNorm1d(C)` called in the owner's `forward` on `self.fc(...)` (a
    Linear), `x.flatten(1)`, `torch.flatten(x, 1)` or `x.view(x.size(0), -1)`, directly or
    through a name assigned that value right before."""
    owner = use.owner
    parent = module.file.parents.get(call)
    if owner is None or not isinstance(parent, cst.Assign) or len(parent.targets) != 1:
        return None
    target = parent.targets[0].target
    if not (isinstance(target, cst.Attribute) and isinstance(target.value, cst.Name) and target.value.value == "self"):
        return None
    attr = target.attr.value
    found = project.index.find_method(owner, "forward")
    if found is None:
        return None
    forward = found[1].node
    model = project.modules.model(owner)
    parents = found[1].module.file.parents
    for bn_call in calls_in(forward):
        func = bn_call.func
        if not (isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name) and func.value.value == "self"
                and func.attr.value == attr and len(bn_call.args) == 1 and bn_call.args[0].keyword is None):
            continue
        argument: cst.BaseExpression | None = bn_call.args[0].value
        if isinstance(argument, cst.Name):
            argument = _value_right_before(argument.value, bn_call, parents)
        described = _two_dimensional_expression(argument, model) if argument is not None else None
        if described is not None:
            return described
    return None


def _value_right_before(name: str, use_site: cst.Call, parents: dict) -> cst.BaseExpression | None:
    """The value of `name = <value>` when that is the statement right before the one using it."""
    statement = enclosing(use_site, parents, cst.SimpleStatementLine)
    block = parents.get(statement) if statement is not None else None
    if statement is None or not isinstance(block, cst.IndentedBlock):
        return None
    body = list(block.body)
    index = body.index(statement)
    if index == 0:
        return None
    previous = body[index - 1]
    if not isinstance(previous, cst.SimpleStatementLine) or len(previous.body) != 1:
        return None
    assign = previous.body[0]
    if isinstance(assign, cst.Assign) and len(assign.targets) == 1 and \
            isinstance(assign.targets[0].target, cst.Name) and assign.targets[0].target.value == name:
        return assign.value
    return None


def _two_dimensional_expression(expr: cst.BaseExpression, model: ModuleClass) -> str | None:
    """`self.fc(...)` with `self.fc` an nn.Linear, `x.flatten(1)`, `torch.flatten(x, 1)`,
    `x.view(x.size(0), -1)` / `x.reshape(B, -1)`: for messages, else None."""
    if not isinstance(expr, cst.Call):
        return None
    func = expr.func
    code = cst.Module([]).code_for_node(expr)
    short = code if len(code) <= 40 else code[:37] + "..."
    if isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name) and func.value.value == "self":
        sub = model.submodules.get(func.attr.value)
        if sub is not None and sub.kind.torch_class in {"Linear", "LazyLinear"} and not sub.conditions:
            return f"`self.{func.attr.value}(...)` (nn.{sub.kind.torch_class})"
        return None
    args = [a for a in expr.args if a.keyword is None and not a.star]
    if len(args) != len(expr.args):
        return None
    if isinstance(func, cst.Attribute) and func.attr.value == "flatten" and len(args) == 1 and _is_int(args[0].value, 1):
        if dotted_name(func.value) in {"torch"}:
            return None
        return f"`{short}`"
    if dotted_name(func) == "torch.flatten" and len(args) == 2 and _is_int(args[1].value, 1):
        return f"`{short}`"
    if isinstance(func, cst.Attribute) and func.attr.value in {"view", "reshape"} and len(args) == 2 \
            and _is_int(args[1].value, -1):
        return f"`{short}`"
    return None


def _is_int(expr: cst.BaseExpression, value: int) -> bool:
    if value < 0:
        return (isinstance(expr, cst.UnaryOperation) and isinstance(expr.operator, cst.Minus)
                and isinstance(expr.expression, cst.Integer) and expr.expression.evaluated_value == -value)
    return isinstance(expr, cst.Integer) and expr.evaluated_value == value

"""A trainable layer of the private model that gets gradients but that the optimizer does not hold
(`trainable_outside_optimizer`).

    model = Probe()                                             # self.backbone (not frozen), self.head
    optimizer = torch.optim.SGD(model.head.parameters(), lr=0.1)
    model, optimizer, loader = engine.make_private(module=model, optimizer=optimizer, data_loader=loader, ...)
    for x, y in loader:
        optimizer.zero_grad()
        criterion(model(x), y).backward()                       # <- raises at the second batch
        optimizer.step()

`make_private` hooks every trainable layer of the model, so the backbone's layers store per-sample gradients at
every backward. Only the DP optimizer's `zero_grad()` clears them, and it clears only the parameters it holds: at
the second backward the backbone's per-sample gradients of the first are still there, and under Poisson sampling
(the default) Opacus raises `ValueError: Poisson sampling is not compatible with grad accumulation` (measured,
opacus 1.4.1, 1.5.4, 1.6.0, hooks and functorch modes). Without Poisson sampling, with the model's own
`zero_grad()` in the loop, with the backbone frozen or called under `torch.no_grad()`/`.detach()`d, it trains.

What is read, for an engine call `make_private*` in hooks or functorch mode with `poisson_sampling` True:
- the optimizer: the last `<optimizer> = torch.optim.<Name>(...)` before the call (in a trainer, also in
  `__init__`), read as DPL218 reads it (`replaced_modules.held_paths`): the model paths whose every parameter it
  holds (`{"model.head"}`; `student.parameters()` for the `student` that `model = DINO(student, teacher)` stores
  as `self.student` holds `model.student`); one that holds the model itself, a variable the model's
  construction does not store, or anything unread, gives no answer;
- the model: built before the optimizer by its class (`Probe()`, `MODELS[name](...)`), or by a project function
  that writes no `requires_grad` and no freeze; between its construction and the engine call, and after the call,
  nothing changes `requires_grad`, and the model is handed to no function and no method but a known harmless one
  (`.to()`, `.train()`, `.parameters()`, `.load_state_dict()`, ...); in a trainer given its model
  (`self.model = model` in `__init__`), the model built by the project's one call of the trainer's class, read
  the same way in the caller, whose code mentions no `requires_grad` and no freeze;
- its attributes: each direct submodule owning trainable parameters (read from the project's classes, not frozen
  there), that no held path contains or lies below, called in `forward` with grad enabled, in a call that runs in
  every forward pass (`ghost_reuse.certainly_runs`) and whose output reaches what `forward` returns with its
  gradient (the gradient flow);
- the loop: a training loop of the call whose every round runs one backward and one step and clears only with the
  DP optimizer's `zero_grad()` (`accumulation.optimizer_cleared_loops`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import libcst as cst

from dp_lint.analysis.accumulation import OptimizerClearedLoop, optimizer_cleared_loops
from dp_lint.analysis.engine_calls import GradSampleMode
from dp_lint.analysis.ghost_reuse import certainly_runs
from dp_lint.analysis.gradient_flow import CallSite
from dp_lint.analysis.index import ClassInfo, FunctionInfo, ModuleInfo
from dp_lint.analysis.models import Tri, may_change_requires_grad
from dp_lint.analysis.optimizers import attribute_storing
from dp_lint.analysis.replaced_modules import held_paths
from dp_lint.analysis.requires_grad import requires_grad_changes
from dp_lint.analysis.training import (
    TrainingSetup,
    assigns,
    class_methods,
    enclosing_class,
    function_body,
    single_assignment,
    statements_before_engine,
)
from dp_lint.files.syntax import argument, calls_in, contains, dotted_name, enclosing, walk_statements

if TYPE_CHECKING:
    from dp_lint.analysis.project import Project

_MODES = (GradSampleMode.HOOKS, GradSampleMode.FUNCTORCH)
# Methods of the model (or of a submodule) that leave which parameters require grad as they are.
_HARMLESS_METHODS = frozenset({
    "to", "cuda", "cpu", "float", "double", "half", "bfloat16", "train", "eval", "parameters", "named_parameters",
    "modules", "named_modules", "children", "named_children", "state_dict", "load_state_dict", "zero_grad",
})
_HARMLESS_FUNCTIONS = frozenset({"print", "len", "repr", "str", "id", "type", "isinstance", "sum"})


@dataclass(frozen=True)
class TrainableOutsideOptimizer:
    """A trainable submodule of the private model that gets gradients, left out of the optimizer.

    `path`: the submodule as the script names it (`"model.backbone"`); `description`: what it is (`"Backbone"`,
    `"nn.Linear"`); `held`: the paths the optimizer holds, sorted; `optimizer`: its name; `statement`: its
    construction (where findings are reported); `site`: the call in `forward` whose gradient reaches the output;
    `loop`: the training loop that raises at its second round; `confident`: the submodule is known to own trainable
    parameters."""

    setup: TrainingSetup
    path: str
    description: str
    held: tuple[str, ...]
    optimizer: str
    statement: cst.CSTNode
    site: CallSite
    loop: OptimizerClearedLoop
    confident: bool


def trainable_outside_optimizer(setup: TrainingSetup, project: Project) -> list[TrainableOutsideOptimizer]:
    engine = setup.engine
    cls = engine.wrapped
    if not engine.kind.makes_private or cls is None or setup.grad_sample_mode not in _MODES \
            or setup.poisson_sampling is not True:
        return []
    passed, optimizer = setup.argument_name("module"), setup.argument_name("optimizer")
    if passed is None or optimizer is None:
        return []
    sequence = statements_before_engine(setup, optimizer, passed)
    if sequence is None:
        return []
    built = max((i for i, s in enumerate(sequence) if assigns(s, optimizer)), default=None)
    created = max((i for i, s in enumerate(sequence) if assigns(s, passed)), default=None)
    if built is None or created is None or created > built:
        return []
    construction = single_assignment(sequence[built], optimizer)
    model_call, model_module = single_assignment(sequence[created], passed), setup.module
    aliases: dict[str, str] = {}  # other names of the model where the optimizer is built
    if model_call is None:
        handed = _handed_model(sequence[created], passed, setup, project)
        if handed is not None and not any(assigns(s, handed[2]) for s in sequence):
            model_call, model_module, given = handed
            aliases[given] = passed  # `SGD(model.parameters())` in `__init__(self, model)`: `self.model`
    held = held_paths(construction, setup) if construction is not None else None
    if held and model_call is not None:
        held = _below_model(held, passed, aliases, model_call if model_module is setup.module else None,
                            setup, project)
    if not held or passed in held or model_call is None or not _built_unfrozen(model_call, model_module, project):
        return []
    later = sequence[created + 1:]
    returned = setup.returned("module")
    roots = {passed, *([returned] if returned else [])}
    if next(requires_grad_changes(later, {passed}), None) is not None \
            or next(requires_grad_changes(setup.after, roots), None) is not None:
        return []
    if any(not _harmless_use(stmt, passed, construction) for stmt in later):
        return []
    loops = optimizer_cleared_loops(setup, project.index)
    if not loops:
        return []
    found: list[TrainableOutsideOptimizer] = []
    for attr, site, description, confident in _unheld_trainable(project, cls, passed, held):
        found.append(TrainableOutsideOptimizer(setup, f"{passed}.{attr}", description, tuple(sorted(held)),
                                               optimizer, sequence[built], site, loops[0], confident))
    return found


def _below_model(held: set[str], passed: str, aliases: dict[str, str], model_call: cst.Call | None,
                 setup: TrainingSetup, project: Project) -> set[str] | None:
    """`held` as paths below the model: `model.head` for `model.head` where `model` is another name of the model
    (`aliases`); `student` for the `student` that `model = DINO(student, teacher)` (`model_call`, written where
    the optimizer is) stores as `self.student` is `model.student`; None when a held path is neither below the
    model nor so stored (the optimizer may hold a part of the model under another name)."""
    rooted: set[str] = set()
    for path in held:
        if _below(path, passed):
            rooted.add(path)
            continue
        root, _, rest = path.partition(".")
        if root in aliases:
            rooted.add(".".join(part for part in (aliases[root], rest) if part))
            continue
        attr = attribute_storing(project.index, setup.module, model_call, root) if model_call is not None else None
        if attr is None:
            return None
        rooted.add(".".join(part for part in (passed, attr, rest) if part))
    return rooted


def _handed_model(stmt: cst.CSTNode, passed: str, setup: TrainingSetup,
                  project: Project) -> tuple[cst.Call, ModuleInfo, str] | None:
    """A trainer given its model: for `self.model = model` in `__init__(self, model, cfg)`, the construction of the
    model the project's one `Trainer(...)` call hands it (`model = build_classifier(cfg)`; `trainer =
    Trainer(model, cfg)`), its module, and the parameter's name (`model`). None unless that caller assigns the model once, before, and otherwise
    uses it (and everything else) without touching `requires_grad`: through harmless methods, or not at all."""
    value = _assigned_name(stmt, passed)
    trainer = enclosing_class(setup)
    init = next((m for m in class_methods(trainer) if m.name.value == "__init__"), None)
    if value is None or init is None or not passed.startswith("self.") or not contains(init, stmt):
        return None
    positional = [p.name.value for p in (*init.params.posonly_params, *init.params.params)][1:]
    if value not in positional and value not in {p.name.value for p in init.params.kwonly_params}:
        return None
    cls = next((c for c in setup.module.classes.values() if c.node is trainer), None)
    constructions = project.modules.constructions(cls) if cls is not None else []
    if len(constructions) != 1:
        return None
    module, call = constructions[0]
    given = argument(call, value, positional.index(value) if value in positional else None)
    if not isinstance(given, cst.Name) or any(a.star for a in call.args):
        return None
    parents = module.file.parents
    caller = enclosing(parents.get(call), parents, cst.FunctionDef)
    body = list(walk_statements(function_body(caller) if caller is not None else module.file.module.body))
    holder: cst.CSTNode = caller if caller is not None else module.file.module
    if may_change_requires_grad(cst.Module([]).code_for_node(holder) if caller is not None else module.file.text):
        return None
    assigned = [i for i, s in enumerate(body) if assigns(s, given.value)]
    at = next((i for i, s in enumerate(body) if contains(s, call) and isinstance(s, cst.SimpleStatementLine)), None)
    if len(assigned) != 1 or at is None or assigned[0] > at:
        return None
    model_call = single_assignment(body[assigned[0]], given.value)
    if model_call is None or any(not _harmless_use(s, given.value, call) for s in body[assigned[0] + 1:]):
        return None
    return model_call, module, value


def _assigned_name(stmt: cst.CSTNode, target: str) -> str | None:
    """The `model` of `<target> = model`."""
    if isinstance(stmt, cst.SimpleStatementLine) and len(stmt.body) == 1 and isinstance(stmt.body[0], cst.Assign):
        assign = stmt.body[0]
        if len(assign.targets) == 1 and dotted_name(assign.targets[0].target) == target \
                and isinstance(assign.value, cst.Name):
            return assign.value.value
    return None


def _built_unfrozen(call: cst.Call, module: ModuleInfo, project: Project) -> bool:
    """Is the model built by its class, or by a project function that writes no `requires_grad` or freeze?"""
    qualname = module.resolve_expr(call.func) if dotted_name(call.func) else None
    function = project.index.lookup_function(qualname) if qualname else None
    if function is not None:
        return _writes_no_freeze(function, project, 0)
    kind = project.modules.kind_of(module, call)
    return kind is not None and kind.project_class is not None and not kind.frozen


def _writes_no_freeze(function: FunctionInfo, project: Project, depth: int) -> bool:
    """Neither `function` nor a project function it calls (three levels down) mentions `requires_grad` or a
    freeze; a freeze elsewhere (a class's `__init__`) is read from the classes."""
    if may_change_requires_grad(cst.Module([]).code_for_node(function.node)):
        return False
    for call in calls_in(function.node):
        qualname = function.module.resolve_expr(call.func) if dotted_name(call.func) else None
        called = project.index.lookup_function(qualname) if qualname else None
        if called is not None and called is not function and (depth >= 3 or not _writes_no_freeze(called, project, depth + 1)):
            return False
    return True


def _harmless_use(stmt: cst.CSTNode, model: str, construction: cst.Call | None) -> bool:
    """Does `stmt` use the model (or a path below it) only through harmless methods, or not at all?"""
    for call in calls_in(stmt):
        if call is construction:
            continue
        func = dotted_name(call.func)
        if isinstance(call.func, cst.Attribute) and _below(dotted_name(call.func.value), model):
            if call.func.attr.value not in _HARMLESS_METHODS:
                return False
            continue
        if func in _HARMLESS_FUNCTIONS:
            continue
        if any(_mentions(arg.value, model) for arg in call.args) and not _inside(call, construction):
            return False
    return True


def _inside(call: cst.Call, construction: cst.Call | None) -> bool:
    return construction is not None and any(c is call for c in calls_in(construction))


def _below(name: str | None, model: str) -> bool:
    return name is not None and (name == model or name.startswith(model + "."))


def _mentions(expr: cst.BaseExpression, model: str) -> bool:
    if _below(dotted_name(expr), model):
        return True
    return any(isinstance(child, cst.BaseExpression) and _mentions(child, model) for child in expr.children)


def _unheld_trainable(project: Project, cls: ClassInfo, passed: str,
                      held: set[str]) -> list[tuple[str, CallSite, str, bool]]:
    """(attribute, call site, description, confident) of each direct submodule left out of `held`."""
    model = project.modules.model(cls)
    flow = project.gradient_flow(cls)
    if not flow.analyzed or flow.dynamic_access or model.dynamic_attributes or model.unattributed_freeze \
            or model.freezes_everything:
        return []
    found: list[tuple[str, CallSite, str, bool]] = []
    for attr, sub in model.submodules.items():
        if sub.alias_of is not None or len(model.variants.get(attr, [])) > 1 or sub.conditions:
            continue
        kind = sub.kind
        if kind.owns_parameters is not Tri.YES or kind.frozen or model.is_frozen(attr):
            continue
        path = f"{passed}.{attr}"
        if any(path == h or path.startswith(h + ".") or h.startswith(path + ".") for h in held):
            continue  # held, or partly held (which of its parameters are left out is not read)
        if any(sub2.alias_of == attr for sub2 in model.submodules.values()):
            continue
        if attr in flow.escaped or attr in flow.uncertain_calls or attr in flow.no_grad_calls:
            continue
        sites = [s for s in flow.sites_of(attr) if flow.reaches_with_gradient(s) and certainly_runs(project, s)]
        if sites:
            found.append((attr, sites[0], kind.description, sites[0].confident))
    return found

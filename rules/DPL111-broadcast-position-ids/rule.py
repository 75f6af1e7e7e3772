"""DPL111 broadcast-position-ids: see README.md."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from functools import partial

import libcst as cst

from dp_lint.analysis.engine_calls import EngineCall, GradSampleMode
from dp_lint.analysis.gradient_flow import CallSite
from dp_lint.analysis.index import ClassInfo
from dp_lint.analysis.models import ModuleClass, Tri
from dp_lint.analysis.position_ids import (
    BatchlessIds,
    IdsSite,
    batch_size_expression,
    batched_operand,
    batchless_ids,
)
from dp_lint.analysis.project import PrivateModel, Project
from dp_lint.analysis.values import UNKNOWN
from dp_lint.catalogue.rule import FixAvailability, Rule
from dp_lint.core.findings import Applicability, Confidence, Finding, Fix
from dp_lint.fix.edits import FixUnavailable, make_fix, replace_nodes

_STEP_ERROR = "RuntimeError: stack expects each tensor to be equal size, but got [B] at entry 0 and [1] at entry 1"
# Ghost clipping reads the ids with `.view(-1, 1)`, which an `.expand(...)`ed tensor does not allow
# (measured: "view size is not compatible with input tensor's size and stride"): `.repeat` there.
_COPYING_MODES = (GradSampleMode.GHOST, GradSampleMode.GHOST_FSDP)


class BroadcastPositionIds(Rule):
    code = "DPL111"
    name = "broadcast-position-ids"
    summary = ("Trainable nn.Embedding looked up on position ids without a batch dimension (`torch.arange(T)`, "
               "`[1, T]`): Opacus' per-sample gradients crash (or are silently wrong when T equals the batch)")
    fix_availability = FixAvailability.SAFE
    opacus_behaviours = ("embedding-ids-without-batch-dimension",)

    def check(self, project: Project) -> Iterator[Finding]:
        reported: set[int] = set()
        for private in project.private_models:
            batch_first, _, _ = project.engine_batch_first(private)
            engines = _engines(private)
            if batch_first is not True or any(e.grad_sample_mode is GradSampleMode.NO_OP for e in engines):
                continue
            copying = any(e.grad_sample_mode in _COPYING_MODES or e.grad_sample_mode is UNKNOWN for e in engines)
            nothing: set[ClassInfo] = set()
            hooked = project.guarded(f"hooked classes of {private.instance.cls.qualname}",
                                     partial(project.layer_tree.hooked_classes, private.instance), nothing)
            for cls in sorted(hooked, key=lambda c: c.qualname):
                flow = project.gradient_flow(cls)
                if not flow.analyzed:
                    continue
                model = project.modules.model(cls)
                for site in flow.call_sites:
                    if id(site.node) in reported or not _trainable_embedding(project, cls, model, site.attr):
                        continue
                    if not flow.reaches_with_gradient(site):
                        continue
                    found = self._ids(project, cls, site)
                    if found is None:
                        continue
                    ids_site, argument, ids = found
                    reported.add(id(site.node))
                    yield self._finding(project, private, cls, model, site, ids_site, argument, ids, copying)

    def _ids(self, project: Project, cls: ClassInfo,
             site: CallSite) -> tuple[IdsSite, cst.BaseExpression, BatchlessIds] | None:
        call = site.node
        if len(call.args) != 1 or call.args[0].star or call.args[0].keyword not in (None,):
            return None
        function = site.context[-1] if site.context else None
        module = project.index.by_file.get(site.file)
        if not isinstance(function, cst.FunctionDef) or module is None:
            return None
        ids_site = IdsSite(call, function, module, site.file, cls, project.index)
        argument = call.args[0].value
        ids = project.guarded(f"position ids of self.{site.attr} in {cls.qualname}",
                              partial(batchless_ids, argument, ids_site), None)
        return (ids_site, argument, ids) if ids is not None else None

    def _finding(self, project: Project, private: PrivateModel, cls: ClassInfo, model: ModuleClass, site: CallSite,
                 ids_site: IdsSite, argument: cst.BaseExpression, ids: BatchlessIds, copying: bool) -> Finding:
        source = (f"the buffer `self.{ids.buffer}` (registered from `torch.arange`)" if ids.buffer
                  else "`torch.arange`")
        if ids.rank == 2:
            message = f"`self.{site.attr}` gets ids of shape [1, T], not [B, T]: Opacus' per-sample gradients crash training."
            silent = ""
        else:
            message = (f"`self.{site.attr}` gets ids of shape [T], not [B, T]: Opacus' per-sample gradients crash, "
                       f"or are wrong if T == B.")
            silent = (" With 1-D ids of length T equal to the batch size nothing is raised: Opacus takes position t "
                      "for sample t, and each sample's clipped gradient is wrong, silently (measured: per-sample norms "
                      "0.087-0.133 where they are 0.074-0.130, errors up to 2.2 times the largest entry).")
        engine = private.engine
        where = (f"wrapped by `{engine.kind.value}` at {engine.label()}" if engine is not None
                 else "in a model the project may make private")
        fix, how = _fix(project, cls, model, ids_site, argument, copying)
        return self.report(
            site.node,
            message,
            file=site.file,
            fix=fix,
            confidence=Confidence.HIGH if engine is not None else Confidence.MEDIUM,
            help=(
                f"Give the ids the batch dimension before the lookup: {how} (ordinary training computes the same "
                f"values and gradients). The ids come from {source}. Opacus computes the embedding's per-sample gradients over its input's first "
                f"dimension, {'1' if ids.rank == 2 else 'T'} here instead of the batch, so `optimizer.step()` raises "
                f"`{_STEP_ERROR}` (ghost clipping raises it in `backward()`; ew mode raises `Expected ExpandedWeights "
                f"to have batch size matching input` or `Expanded Weights needs an input with a batch size`)."
                f"{silent} The model is {where}; Opacus issue #841."
            ),
        )


def _engines(private: PrivateModel) -> list[EngineCall]:
    return [private.engine] if private.engine is not None else list(private.unresolved_engines)


def _trainable_embedding(project: Project, cls: ClassInfo, model: ModuleClass, attr: str) -> bool:
    sub = model.submodules.get(attr)
    if sub is None:
        return False
    kind = sub.kind
    if kind.torch_class != "Embedding" or kind.project_class is not None or not kind.certain_module:
        return False
    if kind.owns_parameters is not Tri.YES or kind.frozen:
        return False
    if model.is_frozen(attr) or model.unattributed_freeze or project.modules.frozen_elsewhere(cls, attr):
        return False
    return not project.left_out_of_optimizers(cls, attr)


def _fix(project: Project, cls: ClassInfo, model: ModuleClass, site: IdsSite, argument: cst.BaseExpression,
         copying: bool) -> tuple[Fix | None, str]:
    """`self.pos(pos)` -> `self.pos(pos.expand(<batch>, -1))` (`.repeat(<batch>, 1)` under ghost clipping) when
    the lookup is one operand of a `+` whose other operand has the batch on dimension 0 in `forward`:
    the sum is the same tensor, and the gradients the same."""
    method = "repeat" if copying else "expand"
    rest = "1" if copying else "-1"
    generic = f"`self.<pos>(ids.{method}(<batch size>, {rest}))`"
    found = project.index.find_method(cls, "forward")
    if found is None or found[1].node is not site.function:
        return None, generic
    parents = site.file.parents
    other = _added_to(site.call, parents)
    if other is None:
        # `pos_emb = self.wpe(pos)` and then `tok_emb + pos_emb`: the name's one use is the sum.
        use = _single_use(site, parents)
        other = _added_to(use, parents) if use is not None else None
    if other is None:
        return None, generic
    layers = {attr: (sub.kind.torch_class if sub.kind.project_class is None else None)
              for attr, sub in model.submodules.items()}
    if not batched_operand(other, site, layers):
        return None, generic
    batch = batch_size_expression(site, other)
    if batch is None:
        return None, generic
    code = site.file.module.code_for_node(argument)
    if not isinstance(argument, (cst.Name, cst.Attribute, cst.Call, cst.Subscript)):
        code = f"({code})"
    replacement = f"{code}.{method}({batch}, {rest})"
    how = f"`self.{_attr(site.call)}({replacement})`"
    try:
        tree = replace_nodes(site.file.module, {argument: cst.parse_expression(replacement)}, parents)
        fix = make_fix(site.file.text, tree, Applicability.SAFE,
                       f"Give the position ids the batch dimension: `{replacement}`")
    except FixUnavailable:
        return None, how
    return fix, how


def _attr(call: cst.Call) -> str:
    func = call.func
    return func.attr.value if isinstance(func, cst.Attribute) else "<pos>"


def _added_to(node: cst.BaseExpression, parents: dict) -> cst.BaseExpression | None:
    """The other operand of the `+` (or the target of the `+=`) that `node` is one operand of."""
    parent = parents.get(node)
    if isinstance(parent, cst.BinaryOperation) and isinstance(parent.operator, cst.Add):
        return parent.right if parent.left is node else parent.left
    if isinstance(parent, cst.AugAssign) and isinstance(parent.operator, cst.AddAssign) and parent.value is node:
        return parent.target
    return None


def _single_use(site: IdsSite, parents: dict) -> cst.Name | None:
    """For `name = <call>` (a top-level statement of the function, the name bound nowhere else):
    the name's only read in the function, when it has exactly one."""
    assign = parents.get(site.call)
    if not (isinstance(assign, cst.Assign) and assign.value is site.call and len(assign.targets) == 1
            and isinstance(assign.targets[0].target, cst.Name)):
        return None
    line = parents.get(assign)
    body = site.function.body.body if isinstance(site.function.body, cst.IndentedBlock) else []
    if not isinstance(line, cst.SimpleStatementLine) or line not in body:
        return None
    name = assign.targets[0].target
    reads = [node for node in _names(site.function.body) if node.value == name.value and node is not name]
    if len(reads) != 1 or not _after(reads[0], line, body, parents):
        return None
    return reads[0]


def _names(root: cst.CSTNode) -> Iterator[cst.Name]:
    stack: list[cst.CSTNode] = [root]
    while stack:
        node = stack.pop()
        if isinstance(node, cst.Name):
            yield node
        stack.extend(node.children)


def _after(node: cst.CSTNode, line: cst.BaseStatement, body: Sequence[cst.BaseStatement], parents: dict) -> bool:
    """Is `node` in a top-level statement after `line`?"""
    current: cst.CSTNode | None = node
    while current is not None and current not in body:
        current = parents.get(current)
    return current is not None and body.index(current) > body.index(line)

"""DPL106 parameter-outside-module: see README.md."""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial

import libcst as cst

from dp_lint.analysis import knowledge as tk
from dp_lint.analysis.constants import constructor_setting, literal
from dp_lint.analysis.gradient_flow import FlowResult, ParameterRead
from dp_lint.analysis.index import ClassInfo, ModuleInfo
from dp_lint.analysis.models import ModuleClass, Submodule, Tri
from dp_lint.analysis.project import Project
from dp_lint.analysis.usage import ties_parameter, uses_outside_forward
from dp_lint.catalogue.rule import FixAvailability, Rule
from dp_lint.core.findings import Applicability, Confidence, Finding, Fix
from dp_lint.files.source import SourceFile
from dp_lint.fix.edits import (
    FixUnavailable,
    class_reference,
    fresh_name,
    make_fix,
    replace_nodes,
    statement_in_block,
    with_import,
)

# Where a layer's `bias` switch sits among its positional arguments (`nn.Linear(i, o, False)`).
_BIAS_POSITION = {"Linear": 2, "LayerNorm": 3, **{f"Conv{d}d": 7 for d in (1, 2, 3)},
                  **{f"ConvTranspose{d}d": 7 for d in (1, 2, 3)}}


class ParameterOutsideModule(Rule):
    code = "DPL106"
    name = "parameter-outside-module"
    summary = ("A submodule's parameter used directly (`h @ self.emb.weight.t()`): Opacus' per-sample "
               "gradient misses that use (silently wrong, or missing at step())")
    fix_availability = FixAvailability.UNSAFE
    opacus_behaviours = ("parameter-outside-module-call",)

    def check(self, project: Project) -> Iterator[Finding]:
        reported: set[tuple[str, int, str]] = set()
        for private in project.private_models:
            nothing: set[ClassInfo] = set()
            hooked = project.guarded(f"hooked classes of {private.instance.cls.qualname}",
                                     partial(project.layer_tree.hooked_classes, private.instance), nothing)
            for cls in sorted(hooked, key=lambda c: c.qualname):
                flow = project.gradient_flow(cls)
                if not flow.analyzed:
                    continue
                model = project.modules.model(cls)
                for read in flow.parameter_reads:
                    sub = model.submodules.get(read.attr)
                    if sub is None or not _trainable_parameter(project, cls, model, sub, read.name):
                        continue
                    line = read.file.span(read.node)[0].row
                    key = (str(read.file.path), line, sub.attr)
                    if key in reported:
                        continue
                    reported.add(key)
                    yield self._finding(project, cls, flow, sub, read)

    def _finding(self, project: Project, cls: ClassInfo, flow: FlowResult, sub: Submodule,
                 read: ParameterRead) -> Finding:
        used = f"`self.{read.attr}.{read.name}`"
        step_error = "ValueError: Per sample gradient is not initialized. Not updated in backward pass?"
        if flow.sites_of(read.attr):
            message = f"{used} used outside the module's call: its per-sample gradient misses this use (silently wrong)."
            detail = (f"Opacus computes {used}'s per-sample gradient in the hooks of `self.{read.attr}(...)` only "
                      f"(measured: off by as much as the gradient itself; ghost mode clips by the wrong norm)")
        elif (ties_parameter(project, cls, read.attr) or uses_outside_forward(project, cls, flow, read.attr)
              or project.text_mentions_outside_self(read.attr)):
            message = f"{used} used outside the module's call: its per-sample gradient misses this use (wrong or missing)."
            detail = (f"Opacus computes {used}'s per-sample gradient in the hooks of calls of `self.{read.attr}` "
                      f"only; where none runs, step() raises `{step_error}`")
        else:
            message = f"{used} used without calling the module: no per-sample gradient, step() raises."
            detail = f"Opacus computes per-sample gradients in module hooks; step() raises `{step_error}`"
        return self.report(
            read.node,
            message,
            file=read.file,
            fix=_tied_head_fix(cls, sub, read),
            confidence=Confidence.HIGH if sub.kind.certain_module else Confidence.MEDIUM,
            help=f"{detail}. Fix: {_how_to_fix(sub, read)}.",
        )


def _how_to_fix(sub: Submodule, read: ParameterRead) -> str:
    attr, name = read.attr, read.name
    if sub.kind.torch_class == "Embedding":
        return (f"for a tied head, call an `nn.Linear(dim, vocab, bias=False)` whose weight is set to "
                f"`self.{attr}.weight` in `__init__`; for a position table, call `self.{attr}(torch.arange(T, "
                f"device=...).expand(B, -1))`")
    if sub.kind.project_class is not None:
        return (f"use `{name}` inside `{sub.kind.project_class.name}.forward`, or make it an `nn.Parameter` of "
                f"this class (Opacus then differentiates this class as a whole)")
    return f"call `self.{attr}(...)` instead of using its `{name}` directly"


def _trainable_parameter(project: Project, cls: ClassInfo, model: ModuleClass, sub: Submodule, name: str) -> bool:
    """Is `self.<sub>.<name>` a trainable parameter whose per-sample gradient Opacus computes in
    the hooks of `self.<sub>` (a torch layer, or a project module holding it as an nn.Parameter)?"""
    kind = sub.kind
    if kind.owns_parameters is not Tri.YES or not kind.certain_module:
        return False
    if model.is_frozen(sub.attr) or model.unattributed_freeze or project.modules.frozen_elsewhere(cls, sub.attr):
        return False
    if project.left_out_of_optimizers(cls, sub.attr):
        return False
    if kind.torch_class is not None and kind.project_class is None:
        if name not in tk.LAYER_PARAMETERS.get(kind.torch_class, frozenset()):
            return False
        if name == "bias":
            bias = constructor_setting(kind.call, "bias", _BIAS_POSITION.get(kind.torch_class),
                                       lambda expr: literal(expr, kind.module), True)
            return bias is True
        return True
    if kind.project_class is not None and kind.torch_class is None:
        child = project.modules.model(kind.project_class)
        return name in child.parameter_attrs and not child.freezes_everything and name not in child.frozen_attrs
    return False


def _tied_head_fix(cls: ClassInfo, sub: Submodule, read: ParameterRead) -> Fix | None:
    """`h @ self.emb.weight.t()` / `F.linear(h, self.emb.weight)` / `torch.matmul(h, self.emb.weight.T)`
    on an `nn.Embedding` built in the same class: add a bias-free `nn.Linear` head tied to the
    embedding after its construction, and call it. Unsafe: a new submodule (state_dict keys), and
    its construction draws random numbers, so later layers initialise differently."""
    file = read.file
    if (sub.kind.torch_class != "Embedding" or sub.kind.project_class is not None or read.name != "weight"
            or sub.owner is not cls or sub.alias_of is not None or sub.conditions or cls.file is not file):
        return None
    try:
        found = _head_input(read.node, file, cls.module)
        if found is None:
            return None
        replaced, hidden = found
        init = statement_in_block(sub.statement, file.parents)
        taken = set(cls.methods) | set(cls.module.imports)
        head = fresh_name(cls.node, f"{read.attr}_head")
        if head in taken:
            return None
        module = cls.module
        linear, import_line = class_reference(module, "torch.nn.Linear", "torch.nn", "Linear")
        indent_statements = [
            cst.parse_statement(f"self.{head} = {linear}(self.{read.attr}.embedding_dim, "
                                f"self.{read.attr}.num_embeddings, bias=False)\n"),
            cst.parse_statement(f"self.{head}.weight = self.{read.attr}.weight\n"),
        ]
        call = cst.Call(func=cst.parse_expression(f"self.{head}"), args=[cst.Arg(hidden)])
        tree = replace_nodes(file.module, {init: cst.FlattenSentinel([init, *indent_statements]), replaced: call},
                             file.parents)
        if import_line is not None:
            tree = with_import(tree, import_line)
        return make_fix(file.text, tree, Applicability.UNSAFE,
                        f"Call a bias-free `nn.Linear` head tied to `self.{read.attr}.weight` (`self.{head}`)")
    except FixUnavailable:
        return None


def _head_input(read: cst.Attribute, file: SourceFile, module: ModuleInfo) -> tuple[cst.CSTNode, cst.BaseExpression] | None:
    """For the tied-head shapes around `read` (`self.emb.weight`): the expression to replace and
    the hidden states it multiplies, or None."""
    parents = file.parents
    parent = parents.get(read)
    operand: cst.CSTNode = read  # the weight, or its transpose
    transposed = False
    if isinstance(parent, cst.Attribute) and parent.value is read:
        if parent.attr.value == "T":
            operand, transposed = parent, True
        elif parent.attr.value in {"t", "transpose"}:
            call = parents.get(parent)
            if not (isinstance(call, cst.Call) and call.func is parent and _is_matrix_transpose(call)):
                return None
            operand, transposed = call, True
        else:
            return None
    outer = parents.get(operand)
    if transposed and isinstance(outer, cst.BinaryOperation) and isinstance(outer.operator, cst.MatrixMultiply) \
            and outer.right is operand:
        return outer, outer.left
    call = parents.get(outer) if isinstance(outer, cst.Arg) else None
    if not isinstance(outer, cst.Arg) or not isinstance(call, cst.Call) or len(call.args) != 2:
        return None
    first, second = call.args
    if second is not outer or first.keyword is not None or second.keyword is not None or first.star or second.star:
        return None
    function = module.resolve_expr(call.func)
    if (function == "torch.nn.functional.linear" and not transposed) or (function == "torch.matmul" and transposed):
        return call, first.value
    return None


def _is_matrix_transpose(call: cst.Call) -> bool:
    """`w.t()`, `w.transpose(0, 1)`, `w.transpose(1, 0)`, `w.transpose(-1, -2)` of a 2-D weight."""
    assert isinstance(call.func, cst.Attribute)
    if call.func.attr.value == "t":
        return not call.args
    values = {literal(arg.value, None) for arg in call.args}
    return len(call.args) == 2 and all(arg.keyword is None for arg in call.args) and values in ({0, 1}, {-1, -2})

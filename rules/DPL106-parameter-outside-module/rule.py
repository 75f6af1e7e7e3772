"""DPL106 parameter-outside-module: see README.md."""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial

from dp_lint.analysis import knowledge as tk
from dp_lint.analysis.constants import constructor_setting, literal
from dp_lint.analysis.gradient_flow import FlowResult, ParameterRead
from dp_lint.analysis.index import ClassInfo
from dp_lint.analysis.models import ModuleClass, Submodule, Tri
from dp_lint.analysis.project import Project
from dp_lint.analysis.usage import ties_parameter, uses_outside_forward
from dp_lint.catalogue.rule import FixAvailability, Rule
from dp_lint.core.findings import Confidence, Finding

# Where a layer's `bias` switch sits among its positional arguments (`nn.Linear(i, o, False)`).
_BIAS_POSITION = {"Linear": 2, "LayerNorm": 3, **{f"Conv{d}d": 7 for d in (1, 2, 3)},
                  **{f"ConvTranspose{d}d": 7 for d in (1, 2, 3)}}


class ParameterOutsideModule(Rule):
    code = "DPL106"
    name = "parameter-outside-module"
    summary = ("A submodule's parameter used directly (`h @ self.emb.weight.t()`): Opacus' per-sample "
               "gradient misses that use (silently wrong, or missing at step())")
    fix_availability = FixAvailability.NONE
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
            message = f"{used} used outside the module's call: its per-sample gradient misses this use (silently wrong)"
            detail = (f"Opacus computes {used}'s per-sample gradient in the hooks of `self.{read.attr}(...)` only "
                      f"(measured: off by as much as the gradient itself; ghost mode clips by the wrong norm)")
        elif (ties_parameter(project, cls, read.attr) or uses_outside_forward(project, cls, flow, read.attr)
              or project.text_mentions_outside_self(read.attr)):
            message = f"{used} used outside the module's call: its per-sample gradient misses this use (wrong or missing)"
            detail = (f"Opacus computes {used}'s per-sample gradient in the hooks of calls of `self.{read.attr}` "
                      f"only; where none runs, step() raises `{step_error}`")
        else:
            message = f"{used} used without calling the module: no per-sample gradient, step() raises"
            detail = f"Opacus computes per-sample gradients in module hooks; step() raises `{step_error}`"
        return self.report(
            read.node,
            message,
            file=read.file,
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

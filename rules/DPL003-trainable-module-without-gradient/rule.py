"""DPL003 trainable-module-without-gradient: see README.md."""

from __future__ import annotations

from collections.abc import Iterator

import libcst as cst

from dp_lint.analysis.engine_calls import GradSampleMode
from dp_lint.analysis.gradient_flow import FlowResult
from dp_lint.analysis.index import ClassInfo
from dp_lint.analysis.models import ModuleClass, Submodule, Tri
from dp_lint.analysis.project import Project
from dp_lint.analysis.usage import handed_to_code, uses_outside_forward
from dp_lint.catalogue.rule import FixAvailability, Rule
from dp_lint.core.findings import Applicability, Finding, Fix
from dp_lint.files.source import SourceFile
from dp_lint.files.syntax import calls_in
from dp_lint.fix.edits import FixUnavailable, make_fix, replace_nodes, statement_in_block


class TrainableModuleWithoutGradient(Rule):
    code = "DPL003"
    name = "trainable-module-without-gradient"
    summary = "Trainable submodule never gets a gradient in forward and is not frozen: Opacus raises at step()"
    fix_availability = FixAvailability.SAFE
    opacus_behaviours = ("trainable-module-without-gradient",)

    def check(self, project: Project) -> Iterator[Finding]:
        verdicts: dict[tuple[ClassInfo, str], list[str | None]] = {}
        for cls in project.module_classes():
            if not project.may_be_private(cls):
                continue
            flow = project.gradient_flow(cls)
            model = project.modules.model(cls)
            for attr, sub in model.submodules.items():
                key = (sub.owner, attr)
                if not flow.analyzed or not flow.has_outputs:
                    # A base class without forward (or an abstract one that only raises):
                    # only its subclasses can tell.
                    verdicts.setdefault(key, [])
                    continue
                verdicts.setdefault(key, []).append(self._why_no_gradient(project, cls, flow, model, attr, sub))
        for (owner, attr), reasons in verdicts.items():
            known = [reason for reason in reasons if reason]
            if reasons and len(known) == len(reasons):
                declared = project.modules.model(owner).submodules.get(attr)
                if declared is None:
                    continue
                ghost = project.wrapping_modes(owner) == {GradSampleMode.GHOST}
                yield self.report(
                    declared.statement,
                    self._message(attr, declared.description, ghost),
                    help=self._help(attr, known[0], declared.description, ghost),
                    file=owner.file,
                    fix=self._fix(owner.file, declared.statement, attr),
                )

    @staticmethod
    def _fix(file: SourceFile, assignment: cst.CSTNode, attr: str) -> Fix | None:
        """Freeze the module on the line right after its assignment."""
        try:
            statement = statement_in_block(assignment, file.parents)
            freeze = cst.parse_statement(f"self.{attr}.requires_grad_(False)\n")
            tree = replace_nodes(file.module, {statement: cst.FlattenSentinel([statement, freeze])}, file.parents)
            return make_fix(file.text, tree, Applicability.SAFE, f"Freeze `self.{attr}` after its assignment")
        except FixUnavailable:
            return None

    @staticmethod
    def _why_no_gradient(project: Project, cls: ClassInfo, flow: FlowResult, model: ModuleClass, attr: str,
                         sub: Submodule) -> str | None:
        """Why `attr` gets no gradient in `cls.forward`, or None when it may get one."""
        if sub.kind.owns_parameters is not Tri.YES or not sub.kind.certain_module:
            return None
        if sub.alias_of is not None or any(s.alias_of == attr for s in model.submodules.values()):
            return None
        if any(_hands_over(other.kind.call, attr) for other in model.submodules.values()):
            return None  # handed to another submodule's constructor, which may call it (see DPL112)
        if any(_hands_over(call, attr) for function in flow.analysed_functions for call in calls_in(function)):
            return None  # handed to a call in forward (`self.block(x, self.cpe)`), which may call it
        if handed_to_code(project, cls, attr):
            # `nn.ModuleList([SerialBlock(shared_cpe=self.cpe1) for ...])`, `run(self.head)`: the code
            # it is handed to may call it; a freeze there would stop parameters that do train.
            return None
        if model.is_frozen(attr) or model.unattributed_freeze or model.dynamic_attributes:
            return None
        if project.modules.frozen_elsewhere(cls, attr):
            return None
        if project.left_out_of_optimizers(cls, attr) and GradSampleMode.GHOST not in project.wrapping_modes(cls):
            return None  # never stepped; but ghost clipping reads every trainable parameter's norm at backward
        if flow.dynamic_access or attr in flow.escaped or attr in flow.uncertain_calls:
            return None
        sites = flow.sites_of(attr)
        if any(flow.reaches_with_gradient(site) for site in sites):
            return None
        if sites and not all(flow.stops_for(site) for site in sites):
            return None  # a call whose output is used in a way that is not a stop-gradient
        if uses_outside_forward(project, cls, flow, attr) or project.text_mentions_outside_self(attr):
            return None
        if sites:
            return "its output reaches forward()'s result only through a stop-gradient"
        if attr in flow.no_grad_calls:
            return "it is only called under torch.no_grad()"
        return "forward() never calls it"

    @staticmethod
    def _message(attr: str, description: str, ghost: bool = False) -> str:
        failure = "in ghost mode loss.backward() raises AttributeError" if ghost else "optimizer.step() raises ValueError"
        described = f"`self.{attr}` ({description}) never gets a gradient: {failure}."
        # A long origin (`ARCHS[arch](...)` from build_model() from ...) goes to the help.
        return described if len(described) <= 120 else f"`self.{attr}` never gets a gradient: {failure}."

    @staticmethod
    def _help(attr: str, reason: str, description: str, ghost: bool = False) -> str:
        failure = ("ghost clipping's loss.backward() raises `AttributeError: 'Parameter' object has no attribute "
                   "'_norm_sample'` (whatever the optimizer holds)" if ghost else
                   "optimizer.step() raises `ValueError: Per sample gradient is not initialized`")
        return (
            f"Freeze it: `self.{attr}.requires_grad_(False)`. It ({description}) has trainable parameters, but {reason}: "
            f"they get no per-sample gradient and {failure}."
        )


def _hands_over(call: cst.Call | None, attr: str) -> bool:
    """Does the construction `call` receive `self.<attr>` as an argument?"""
    return call is not None and any(
        isinstance(arg.value, cst.Attribute) and isinstance(arg.value.value, cst.Name)
        and arg.value.value.value == "self" and arg.value.attr.value == attr
        for arg in call.args
    )


"""DPL003 trainable-module-without-gradient.

Finds: a submodule assigned in `__init__` that owns trainable parameters, is not
frozen, and never gets a gradient from `forward`: it is never called, or every call is
under `torch.no_grad()` or reaches the outputs only through a stop-gradient.

Why Opacus breaks: its parameters still have `requires_grad=True` and sit in the
optimizer, but no backward ever reaches them, so they never get `grad_sample` and
`DPOptimizer.step()` raises `ValueError: Per sample gradient is not initialized`.
Freezing the module (`requires_grad_(False)`) changes nothing in ordinary training:
it never received a gradient there either.

Fix (safe): `self.<name>.requires_grad_(False)` on the line after the assignment. In
ordinary training the module never received a gradient either, so nothing changes.

Confidence: high. The rule stays silent when the class (or a subclass, or code
elsewhere in the project) may use the module in a way it cannot follow: another
method the training loop may call, `getattr(self, ...)`, a module passed to an
unknown function, an unattributed freeze, or a call such as `model.head(x)` in a
training script.
"""

from __future__ import annotations

import libcst as cst

from dp_lint.analysis.models import Tri
from dp_lint.analysis.usage import uses_outside_forward
from dp_lint.catalogue.rule import FixAvailability, Rule
from dp_lint.core.findings import Applicability
from dp_lint.files.syntax import calls_in
from dp_lint.fix.edits import FixUnavailable, make_fix, replace_nodes, statement_in_block


class TrainableModuleWithoutGradient(Rule):
    code = "DPL003"
    name = "trainable-module-without-gradient"
    summary = "Trainable submodule never gets a gradient in forward and is not frozen: Opacus raises at step()"
    fix_availability = FixAvailability.SAFE

    def check(self, project):
        verdicts: dict[tuple, list[str | None]] = {}
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
            if reasons and all(reasons):
                sub = project.modules.model(owner).submodules.get(attr)
                if sub is None:
                    continue
                yield self.report(
                    sub.statement,
                    self._message(attr, sub.description, reasons[0]),
                    file=owner.file,
                    fix=self._fix(owner.file, sub.statement, attr),
                )

    @staticmethod
    def _fix(file, assignment, attr: str):
        """Freeze the module on the line right after its assignment."""
        try:
            statement = statement_in_block(assignment, file.parents)
            freeze = cst.parse_statement(f"self.{attr}.requires_grad_(False)\n")
            tree = replace_nodes(file.module, {statement: cst.FlattenSentinel([statement, freeze])}, file.parents)
            return make_fix(file.text, tree, Applicability.SAFE, f"Freeze `self.{attr}` after its assignment")
        except FixUnavailable:
            return None

    @staticmethod
    def _why_no_gradient(project, cls, flow, model, attr, sub) -> str | None:
        """Why `attr` gets no gradient in `cls.forward`, or None when it may get one."""
        if sub.kind.owns_parameters is not Tri.YES or not sub.kind.certain_module:
            return None
        if sub.alias_of is not None or any(s.alias_of == attr for s in model.submodules.values()):
            return None
        if any(_hands_over(other.kind.call, attr) for other in model.submodules.values()):
            return None  # handed to another submodule's constructor, which may call it (see DPL112)
        if any(_hands_over(call, attr) for function in flow.analysed_functions for call in calls_in(function)):
            return None  # handed to a call in forward (`self.block(x, self.cpe)`), which may call it
        if model.is_frozen(attr) or model.unattributed_freeze or model.dynamic_attributes:
            return None
        if attr in project.modules.externally_frozen or project.left_out_of_optimizers(cls, attr):
            return None
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
    def _message(attr: str, description: str, reason: str) -> str:
        return (
            f"`self.{attr}` ({description}) has trainable parameters but never gets a gradient: "
            f"{reason}. Its parameters get no per-sample gradient and optimizer.step() raises "
            f"`ValueError: Per sample gradient is not initialized`. Freeze it: "
            f"`self.{attr}.requires_grad_(False)`."
        )


def _hands_over(call, attr: str) -> bool:
    """Does the construction `call` receive `self.<attr>` as an argument?"""
    return call is not None and any(
        isinstance(arg.value, cst.Attribute) and isinstance(arg.value.value, cst.Name)
        and arg.value.value.value == "self" and arg.value.attr.value == attr
        for arg in call.args
    )

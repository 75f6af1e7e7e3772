"""DPL107 validator-fix-groupnorm-collapse: see README.md."""

from __future__ import annotations

from collections.abc import Iterator

import libcst as cst

from dp_lint.analysis.project import Project
from dp_lint.analysis.validator import CollapsingNorm, collapsing_batch_norms
from dp_lint.catalogue.rule import FixAvailability, Rule
from dp_lint.core.findings import Applicability, Finding, Fix
from dp_lint.fix.edits import FixUnavailable, class_reference, make_fix, replace_nodes, with_import

# BatchNorm1d keywords GroupNorm takes as they are; momentum/track_running_stats have no meaning there.
_KEPT = ("eps", "affine", "device", "dtype")
_DROPPED = {"momentum", "track_running_stats"}


class ValidatorFixGroupnormCollapse(Rule):
    code = "DPL107"
    name = "validator-fix-groupnorm-collapse"
    summary = ("BatchNorm1d(C) on [batch, C] features, C dividing 32, in a model passed through ModuleValidator.fix: "
               "the GroupNorm(C, C) it becomes outputs a constant, so training is silently dead")
    fix_availability = FixAvailability.UNSAFE
    opacus_behaviours = ("validator-fix-groupnorm-collapse",)

    def check(self, project: Project) -> Iterator[Finding]:
        for norm in collapsing_batch_norms(project):
            c, engine = norm.channels, norm.engine
            try:
                fix: Fix | None = _group_norm_fix(norm)
            except FixUnavailable:
                fix = None
            yield self.report(
                norm,
                _message(norm.use.path, c),
                help=(
                    f"Write `nn.GroupNorm(1, {c})` or `nn.LayerNorm({c})` in its place (ModuleValidator.fix keeps "
                    f"them), or call `ModuleValidator.fix(model, num_groups=1)`. The layer is fed {norm.fed_by}, "
                    f"and the model reaches `{engine.kind.value}` at {engine.label()} through ModuleValidator.fix, "
                    f"which replaces BatchNorm1d({c}) with GroupNorm(gcd(32, {c}), {c}) = GroupNorm({c}, {c}): on "
                    f"[batch, {c}] features each group holds one value, normalised to 0, so the layer outputs its "
                    f"bias whatever the input. No error: the loss stops depending on the layers before it, which get "
                    f"no gradient (measured on opacus 1.6.0: output std ~1e-5, their gradient ~3e-6 against ~0.8; "
                    f"opacus issue #567)."
                ),
                confidence=norm.confidence,
                fix=fix,
            )


def _message(path: str, c: int) -> str:
    tail = f"is `GroupNorm({c}, {c})` after ModuleValidator.fix: constant output on [B, {c}], training is dead."
    long = f"`{path}` {tail}"
    return long if len(long) <= 120 else f"`BatchNorm1d({c})` {tail}"


def _group_norm_fix(norm: CollapsingNorm) -> Fix:
    """`nn.BatchNorm1d(C, ...)` -> `nn.GroupNorm(1, C, ...)`: unsafe, a new normalisation (over all C
    features of a sample, as LayerNorm) with new weights, which ModuleValidator.fix leaves alone."""
    call, module = norm.call, norm.module
    positional = [a for a in call.args if a.keyword is None]
    keywords = {a.keyword.value: a for a in call.args if a.keyword is not None}
    if len(positional) != 1 or positional[0].star or set(keywords) - set(_KEPT) - _DROPPED:
        raise FixUnavailable("arguments GroupNorm cannot take")
    channels = cst.Module([]).code_for_node(positional[0].value)
    imports: list[str] = []
    if isinstance(call.func, cst.Attribute):
        func = cst.Module([]).code_for_node(call.func.with_changes(attr=cst.Name("GroupNorm")))
    else:
        func, needed = class_reference(module, "torch.nn.GroupNorm", "torch.nn", "GroupNorm")
        if needed:
            imports.append(needed)
    kept = [f"{name}={cst.Module([]).code_for_node(keywords[name].value)}" for name in _KEPT if name in keywords]
    new_call = cst.parse_expression(f"{func}({', '.join(['1', channels, *kept])})")
    file = norm.file
    tree = replace_nodes(file.module, {call: new_call}, file.parents)
    for statement in imports:
        tree = with_import(tree, statement)
    return make_fix(file.text, tree, Applicability.UNSAFE,
                    f"Replace BatchNorm1d with GroupNorm(1, {norm.channels}) (a new normalisation: retrain)")

"""DPL104 inplace-on-hooked-output.

Finds: an in-place operation on the direct output of a call of a layer that owns trainable
parameters, in a model that may be made private: `nn.ReLU(inplace=True)` (and the other
in-place activations, `nn.Dropout(p > 0, inplace=True)`) right after such a layer in an
`nn.Sequential`; in `forward`, an in-place module, `F.relu(h, inplace=True)`, `F.relu_(h)`,
`h.relu_()` (any `_`-suffixed tensor method), `h += x`, `h[...] = v` on such an output.

Why Opacus breaks: Opacus 1.5+ registers a full backward hook on every trainable layer; torch
then hands out that layer's output as a view made by `BackwardHookFunction`, and modifying it
in place raises `RuntimeError: Output 0 of BackwardHookFunction is a view and is being
modified inplace` in the first forward.

Fix (safe): the out-of-place form (`inplace=False`, `F.relu(h)`, `h = h.relu()`,
`h = h + x`, `h = h.clone()` before an item assignment). Same values; only when no other
reference sees the modified tensor (an alias, a container, a view), otherwise no fix.

Confidence: high; every fact (the layer, its parameters, `inplace=True`) is read from the source.
"""

from __future__ import annotations

from collections.abc import Iterator

import libcst as cst

from dp_lint.analysis.inplace import (
    ALWAYS_INPLACE_FUNCTIONS,
    OUT_OF_PLACE_TWINS,
    InPlaceAnalysis,
    InPlaceSite,
    augmented_to_binary,
)
from dp_lint.analysis.project import Project
from dp_lint.catalogue.rule import FixAvailability, Rule
from dp_lint.core.findings import Applicability, Confidence, Finding, Fix
from dp_lint.files.syntax import enclosing
from dp_lint.fix.edits import FixUnavailable, make_fix, replace_nodes, statement_in_block


class InplaceOnHookedOutput(Rule):
    code = "DPL104"
    name = "inplace-on-hooked-output"
    summary = "In-place operation on a trainable layer's output: Opacus' backward hook view raises at forward"
    fix_availability = FixAvailability.SAFE
    # On releases before 1.5.4 only in-place ops on Linear outputs fail (at step()); the rule does not
    # tell the layer kinds apart by release yet and reports both there.
    opacus_behaviours = ("inplace-after-trainable-layer", "inplace-linear-output-old-hooks")

    def check(self, project: Project) -> Iterator[Finding]:
        for site in InPlaceAnalysis(project).sites():
            try:
                fix = self._fix(site)
            except FixUnavailable:
                fix = None
            yield self.report(site, self._message(site), help=self._help(site), confidence=Confidence.HIGH, fix=fix)

    @staticmethod
    def _message(site: InPlaceSite) -> str:
        return f"{site.how} changes the output of {site.producer} in place: Opacus' hook raises."

    @staticmethod
    def _help(site: InPlaceSite) -> str:
        advice = {
            "layer": "pass `inplace=False`",
            "module_call": "build the module with `inplace=False`",
            "function": "drop `inplace=True`",
            "always_function": "call the out-of-place function",
            "method": "use the out-of-place method (`h = h.relu()`)",
            "augassign": "write the out-of-place operation (`h = h + x` for `h += x`)",
            "setitem": "assign into a copy (`h = h.clone()` first)",
        }[site.kind]
        if site.kind == "augassign" and isinstance(site.node, cst.AugAssign):
            target = cst.Module(body=[]).code_for_node(site.node.target)
            operator = site.node.operator.__class__.__name__
            symbol = _BINARY_SYMBOLS.get(operator)
            if symbol is not None:
                advice = f"write `{target} = {target} {symbol} ...`"
        return (
            f"{advice[0].upper()}{advice[1:]}: same values, no error. Opacus' backward hook hands that output out "
            f"as a view, and the first forward under make_private raises "
            f"`RuntimeError: Output 0 of BackwardHookFunction is a view and is being modified inplace`."
        )

    # -- fixes ---------------------------------------------------------------------

    def _fix(self, site: InPlaceSite) -> Fix:
        file = site.file
        if site.aliased:
            raise FixUnavailable("another reference sees the tensor modified in place")
        parents = file.parents
        if site.kind in {"layer", "module_call"}:
            setting = site.setting
            node = setting.node if setting is not None else None
            if setting is None or not (isinstance(node, cst.Name) and node.value == "True") or setting.file is not file:
                raise FixUnavailable("`inplace=True` is not written as a literal in this file")
            tree = replace_nodes(file.module, {node: cst.Name("False")}, parents)
            text = "Pass `inplace=False`"
        elif site.kind == "function":
            call = _call(site.node)
            args = [a for a in call.args if not (a.keyword is not None and a.keyword.value == "inplace")]
            if len(args) == len(call.args):
                args = list(call.args[:-1])  # passed positionally: it is the last parameter
            if args:
                args[-1] = args[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
            tree = replace_nodes(file.module, {call: call.with_changes(args=args)}, parents)
            text = "Drop `inplace=True`"
        elif site.kind == "always_function":
            func = _call(site.node).func
            if not isinstance(func, (cst.Attribute, cst.Name)):
                raise FixUnavailable("unexpected function expression")
            if isinstance(func, cst.Attribute):
                new_func = func.with_changes(attr=cst.Name(func.attr.value[:-1]))
            else:
                if func.value not in {q.rsplit(".", 1)[-1] for q in ALWAYS_INPLACE_FUNCTIONS}:
                    raise FixUnavailable("imported under another name")
                raise FixUnavailable("imported by name: the out-of-place function may not be imported")
            tree = replace_nodes(file.module, {func: new_func}, parents)
            text = "Call the out-of-place function"
        elif site.kind == "method":
            call = _call(site.node)
            if not isinstance(call.func, cst.Attribute):
                raise FixUnavailable("not a method call")
            method_func = call.func
            method = method_func.attr.value
            twin = method[:-1]
            if twin not in OUT_OF_PLACE_TWINS:
                raise FixUnavailable(f"no out-of-place twin known for `.{method}()`")
            renamed = call.with_changes(func=method_func.with_changes(attr=cst.Name(twin)))
            if site.statement_target is not None:
                statement = statement_in_block(call, parents)
                expr = statement.body[0]
                if not (isinstance(expr, cst.Expr) and expr.value is call):
                    raise FixUnavailable("the call is not the whole statement")
                assign = cst.Assign([cst.AssignTarget(cst.Name(site.statement_target))], renamed)
                tree = replace_nodes(file.module, {expr: assign}, parents)
            elif isinstance(method_func.value, cst.Name):
                raise FixUnavailable("the variable modified in place may be read later")
            else:
                tree = replace_nodes(file.module, {call: renamed}, parents)
            text = f"Use `.{twin}()`"
        elif site.kind == "augassign":
            if not isinstance(site.node, cst.AugAssign):
                raise FixUnavailable("not an augmented assignment")
            new = augmented_to_binary(site.node)
            if new is None:
                raise FixUnavailable("not a plain name")
            tree = replace_nodes(file.module, {site.node: new}, parents)
            text = "Write the out-of-place operation"
        elif site.kind == "setitem":
            statement = statement_in_block(site.node, parents)
            target = site.statement_target
            if target is None:
                small = statement.body[0]
                target = _root(small.target) if isinstance(small, cst.AugAssign) else None
            if target is None or enclosing(statement, parents, cst.FunctionDef) is None:
                raise FixUnavailable("no variable to copy")
            copy = cst.SimpleStatementLine(
                [cst.Assign([cst.AssignTarget(cst.Name(target))],
                            cst.Call(cst.Attribute(cst.Name(target), cst.Name("clone"))))],
                leading_lines=statement.leading_lines,
            )
            tree = replace_nodes(
                file.module,
                {statement: cst.FlattenSentinel([copy, statement.with_changes(leading_lines=())])},
                parents,
            )
            text = f"Copy `{target}` before assigning into it"
        else:
            raise FixUnavailable(site.kind)
        return make_fix(file.text, tree, Applicability.SAFE, text)


_BINARY_SYMBOLS = {
    "AddAssign": "+", "SubtractAssign": "-", "MultiplyAssign": "*", "DivideAssign": "/",
    "FloorDivideAssign": "//", "ModuloAssign": "%", "PowerAssign": "**", "MatrixMultiplyAssign": "@",
}


def _call(node: cst.CSTNode) -> cst.Call:
    if not isinstance(node, cst.Call):
        raise FixUnavailable("not a call")
    return node


def _root(node: cst.BaseExpression) -> str | None:
    """The name an attribute/subscript chain starts from."""
    while isinstance(node, (cst.Subscript, cst.Attribute)):
        node = node.value
    return node.value if isinstance(node, cst.Name) else None

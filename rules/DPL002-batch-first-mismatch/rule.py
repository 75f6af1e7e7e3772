"""DPL002 batch-first-mismatch: see README.md."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

import libcst as cst

from dp_lint.analysis.index import ClassInfo
from dp_lint.analysis.layers import BATCH_FIRST_LAYERS, KeywordOrigin, LayerUse, LiteralOrigin, Origin
from dp_lint.analysis.models import ModuleKind
from dp_lint.analysis.project import PrivateModel, Project
from dp_lint.analysis.values import UNKNOWN, Unknown
from dp_lint.catalogue.rule import FixAvailability, Rule
from dp_lint.core.findings import Applicability, Confidence, Finding, Fix
from dp_lint.files.syntax import blocks, dotted_name, is_self_attribute
from dp_lint.fix.edits import FixUnavailable, add_keyword, make_fix, replace_nodes


class BatchFirstMismatch(Rule):
    code = "DPL002"
    name = "batch-first-mismatch"
    summary = "Layer batch_first disagrees with the Opacus engine's: samples mixed silently or torch.stack error"
    fix_availability = FixAvailability.UNSAFE
    opacus_behaviours = ("batch-first-global-setting",)

    def check(self, project: Project) -> Iterator[Finding]:
        tree = project.layer_tree
        layout = DataLayout(project)
        for layer in project.layer_uses:
            use = layer.use
            layer_value = tree.batch_first(use)
            if layer_value is UNKNOWN or use.call is None:
                continue
            engine_value, engine_text, confidence = self._engine_value(project, layer.model)
            if engine_value is UNKNOWN or engine_value == layer_value:
                continue
            if engine_value and layout.time_major(use):
                if use.name not in ATTENTION_LAYERS:
                    continue  # a sequence-first recurrent layer fed time-major data: exact
                yield self.report(
                    use.call,
                    self._time_major_message(use, project.engine_batch_first_brief(layer.model, use.file)),
                    help=self._time_major_help(use, engine_text),
                    file=use.file,
                    confidence=Confidence.MEDIUM,
                )
                continue
            yield self.report(
                use.call,
                self._message(use, layer_value, engine_value, project.engine_batch_first_brief(layer.model, use.file)),
                help=self._help(use, engine_value, engine_text),
                file=use.file,
                confidence=confidence,
                fix=self._fix(project, use, use.call, engine_value),
            )

    @staticmethod
    def _fix(project: Project, use: LayerUse, call: cst.Call, engine_value: bool) -> Fix | None:
        """Set batch_first where its value comes from: the layer's own argument, or the
        construction call / default it was passed through (in the layer's file only)."""
        if not engine_value:
            # Turning a layer sequence-first also needs forward() to index sequence-first
            # (`out[-1]` instead of `out[:, -1]`) and every other layer to see the batch on
            # dimension 1: not something a rewrite of one argument can promise.
            return None
        tree = project.layer_tree
        file = use.file
        if file is None:
            return None
        argument = next((a.value for a in call.args if a.keyword is not None and a.keyword.value == "batch_first"), None)
        positional = [a for a in call.args if a.keyword is None]
        position = BATCH_FIRST_LAYERS[use.name]
        if argument is None and len(positional) > position:
            argument = positional[position].value
        origin: Origin | None
        if argument is None:
            origin = KeywordOrigin(call, use.module, "batch_first")
        else:
            origin = tree.origin(argument, use.instance, use.owner, use.module)
        if isinstance(origin, KeywordOrigin) and origin.module is not None and origin.module.file is not file:
            origin = origin.fallback  # the call is in another file: change the default in this one
        if origin is None or origin.module is None or origin.module.file is not file:
            return None
        value = cst.Name("True" if engine_value else "False")
        changes: dict[cst.CSTNode, cst.CSTNode]
        if isinstance(origin, LiteralOrigin):
            changes = {origin.node: value}
            where = "here" if origin.node is argument else "where its value is set"
        else:
            changes = {origin.call: add_keyword(origin.call, origin.name, value)}
            where = "here" if origin.call is call else f"in the call that builds it (`{origin.name}=`)"
        note = ""
        if use.name == "DPMultiheadAttention" and engine_value:
            heads = tree.setting(use, "num_heads", 1, UNKNOWN)
            if heads != 1:
                note = "; note: with several heads this makes DPL004 apply (wrong forward output on opacus <= 1.6.0)"
        try:
            return make_fix(
                file.text,
                replace_nodes(file.module, changes, file.parents),
                Applicability.UNSAFE,
                f"Set batch_first={engine_value} {where} (feed data in that layout){note}",
            )
        except FixUnavailable:
            return None

    @staticmethod
    def _engine_value(project: Project, model: PrivateModel) -> tuple[bool | Unknown, str, Confidence]:
        return project.engine_batch_first(model)

    @staticmethod
    def _message(use: LayerUse, layer_value: bool, engine_value: bool, engine_brief: str) -> str:
        if engine_value and use.name in RECURRENT_DP_LAYERS:
            consequence = "step() fails in torch.stack"
        elif engine_value:
            consequence = "samples mix or step() fails"
        else:
            consequence = "wrong gradients or step() fails"
        named = f"batch_first={layer_value} on `{use.path}`, {engine_brief}: {consequence}."
        # A long layer path keeps its last part; the help names the engine call in full.
        return named if len(named) <= 120 else f"batch_first={layer_value} on `{use.path.rsplit('.', 1)[-1]}`, {engine_brief}: {consequence}."

    @staticmethod
    def _help(use: LayerUse, engine_value: bool, engine_text: str) -> str:
        if engine_value and use.name in RECURRENT_DP_LAYERS:
            consequence = (
                "fed batch-first data, the layer recurs across the samples of the batch and its per-sample "
                "gradients get one row per time step: optimizer.step() fails in torch.stack, or backward in "
                "einsum when Poisson sampling varies the batch size (silently wrong gradients when the "
                "sequence length equals the batch size)"
            )
        elif engine_value and use.name in ATTENTION_LAYERS:
            consequence = (
                "fed batch-first data, the layer takes the batch as the sequence and every sample attends to "
                "the others (no error, per-sample gradients and privacy silently wrong); fed sequence-first "
                "data, its projections see the sequence where Opacus expects the batch and optimizer.step() "
                "fails in torch.stack"
            )
        elif engine_value:
            consequence = (
                "with batch-first data the layer mixes samples across the batch (no error, per-sample "
                "gradients and privacy silently wrong); with sequence-first data optimizer.step() fails "
                "in torch.stack"
            )
        else:
            consequence = (
                "Opacus takes dimension 1 as the batch for every layer while this layer expects it "
                "first: per-sample gradients are wrong or optimizer.step() fails in torch.stack"
            )
        return (
            f"Set batch_first={engine_value} on this layer (`{use.name}`; and feed data in that layout). "
            f"It disagrees with "
            f"{engine_text}: {consequence}."
        )

    @staticmethod
    def _time_major_message(use: LayerUse, engine_brief: str) -> str:
        return (
            f"`{use.path}` gets time-major data but batch_first {engine_brief}: step() fails."
        )

    @staticmethod
    def _time_major_help(use: LayerUse, engine_text: str) -> str:
        return (
            "Setting batch_first=True on this layer alone would make it attend across the batch: drop the swaps "
            "and set batch_first=True, or keep them and set batch_first=False on the engine with every layer fed "
            f"sequence-first. The layer (`{use.name}`) has batch_first=False and the forward swaps dimensions 0 "
            f"and 1 before it, against {engine_text}. Opacus takes dimension 0 of the layer's [sequence, batch, ...] "
            "projections as the batch and optimizer.step() fails in torch.stack (silently wrong per-sample "
            "gradients when the sequence length equals the batch size)."
        )

# -- data layout evidence ----------------------------------------------------------------------
# Whether the data reaching a layer is time-major is read from the forward code around it: each
# `transpose(0, 1)`/`permute(1, 0, ...)`/`swapaxes(0, 1)` swaps the batch and time dimensions
# (a parity: 1 = time-major relative to what the model receives), and a layer's output indexed or
# reduced the sequence-first way (`out[-1]`, `out.mean(0)`) is evidence of its own. `h_n[-1]` is
# not: the hidden state is [layers, batch, hidden] whatever batch_first is.

RECURRENT_DP_LAYERS = frozenset({"DPLSTM", "DPGRU", "DPRNN"})
ATTENTION_LAYERS = frozenset({
    "MultiheadAttention", "DPMultiheadAttention", "TransformerEncoderLayer", "TransformerDecoderLayer", "Transformer",
})
_SWAP_METHODS = frozenset({"transpose", "swapaxes", "swapdims", "movedim", "moveaxis"})
_PRESERVING_METHODS = frozenset({
    "contiguous", "float", "half", "double", "bfloat16", "to", "cuda", "cpu", "clone", "relu", "tanh", "sigmoid",
    "softmax", "log_softmax", "masked_fill", "type_as", "abs", "exp", "neg",
})
_REDUCTIONS = frozenset({"mean", "sum", "max", "min", "amax", "amin", "logsumexp", "prod", "std", "var"})


def _int(expr: cst.BaseExpression) -> int | None:
    if isinstance(expr, cst.Integer):
        return int(expr.value)
    if isinstance(expr, cst.UnaryOperation) and isinstance(expr.operator, cst.Minus) and isinstance(expr.expression, cst.Integer):
        return -int(expr.expression.value)
    return None


def _dims(call: cst.Call, fallback: cst.Call | None) -> list[int] | None:
    """The literal dimensions a transpose/permute call names; when they are not literals (a
    `Permute` module's `x.permute(*self.dims)`), the literal integers its construction got."""
    args = [a.value for a in call.args if a.keyword is None]
    if len(args) == 1 and isinstance(args[0], (cst.Tuple, cst.List)):
        args = [e.value for e in args[0].elements]
    values = [_int(a) for a in args]
    if args and all(v is not None for v in values):
        return [v for v in values if v is not None]
    if fallback is not None and fallback.args and all(a.keyword is None for a in fallback.args):
        given = [_int(a.value) for a in fallback.args]
        if all(v is not None for v in given):
            return [v for v in given if v is not None]
    return None


def _swaps(method: str, call: cst.Call, fallback: cst.Call | None) -> bool | None:
    """Does this tensor method call swap dimensions 0 and 1? None: cannot tell."""
    dims = _dims(call, fallback)
    if dims is None:
        return None
    if method == "permute":
        return len(dims) >= 2 and dims[0] == 1 and dims[1] == 0
    return len(dims) == 2 and set(dims) == {0, 1}


class _Forward:
    """One pass over a forward method: the parity of what each `self.<attr>(...)` call gets,
    and whether the output of a submodule is indexed/reduced the sequence-first way."""

    def __init__(self, function: cst.FunctionDef, construction: cst.Call | None) -> None:
        self.construction = construction
        self.env: dict[str, int | None] = {}
        self.loop_vars: dict[str, str] = {}  # `for layer in self.layers`: layer -> layers
        self.outputs: dict[str, str] = {}  # name holding a submodule's output -> its attribute
        self.inputs: dict[str, list[int | None]] = {}
        self.sequence_first_outputs: set[str] = set()
        self.returned: list[int | None] = []
        params = [p.name.value for p in function.params.params]
        for name in params[1:]:
            self.env[name] = 0
        self.block(function.body.body if isinstance(function.body, cst.IndentedBlock) else [])

    def block(self, statements: Sequence[cst.BaseStatement]) -> None:
        for stmt in statements:
            if isinstance(stmt, cst.SimpleStatementLine):
                for small in stmt.body:
                    self.small(small)
            elif isinstance(stmt, cst.For):
                target = stmt.target
                attr = stmt.iter.attr.value if is_self_attribute(stmt.iter) else None
                if isinstance(target, cst.Name) and attr is not None:
                    self.loop_vars[target.value] = attr
                self.value(stmt.iter)
                for inner in blocks(stmt):
                    self.block(inner)
            elif isinstance(stmt, (cst.FunctionDef, cst.ClassDef)):
                continue
            else:
                for inner in blocks(stmt):
                    self.block(inner)

    def small(self, small: cst.BaseSmallStatement) -> None:
        if isinstance(small, (cst.Assign, cst.AnnAssign)) and small.value is not None:
            targets = [t.target for t in small.targets] if isinstance(small, cst.Assign) else [small.target]
            parity = self.value(small.value)
            source = self._called_attr(small.value)
            for target in targets:
                names = [target] if isinstance(target, cst.Name) else (
                    [e.value for e in target.elements] if isinstance(target, (cst.Tuple, cst.List)) else [])
                for position, name in enumerate(names):
                    if isinstance(name, cst.Name):
                        self.env[name.value] = parity if position == 0 else None
                        if source is not None and position == 0:
                            self.outputs[name.value] = source
                        else:
                            self.outputs.pop(name.value, None)
        elif isinstance(small, cst.AugAssign):
            self.value(small.value)
        elif isinstance(small, cst.Return) and small.value is not None:
            self.returned.append(self.value(small.value))
        elif isinstance(small, cst.Expr):
            self.value(small.value)

    def _module_attr(self, func: cst.BaseExpression) -> str | None:
        if is_self_attribute(func):
            return func.attr.value
        if isinstance(func, cst.Name):
            return self.loop_vars.get(func.value)
        return None

    def _called_attr(self, expr: cst.BaseExpression) -> str | None:
        """`self.lstm(x)` or `self.attn(q, k, v)[0]`: the submodule whose output this is."""
        if isinstance(expr, cst.Subscript) and len(expr.slice) == 1 and isinstance(expr.slice[0].slice, cst.Index) \
                and _int(expr.slice[0].slice.value) == 0:
            expr = expr.value
        if isinstance(expr, cst.Call):
            return self._module_attr(expr.func)
        return None

    def _note_sequence_first(self, expr: cst.BaseExpression) -> None:
        attr = self.outputs.get(expr.value) if isinstance(expr, cst.Name) else self._called_attr(expr)
        if attr is not None:
            self.sequence_first_outputs.add(attr)

    def value(self, expr: cst.BaseExpression) -> int | None:
        if isinstance(expr, cst.Name):
            return self.env.get(expr.value)
        if isinstance(expr, cst.Call):
            for arg in expr.args:
                self.value(arg.value)
            attr = self._module_attr(expr.func)
            first = self.value(expr.args[0].value) if expr.args and expr.args[0].keyword is None else None
            if attr is not None:
                self.inputs.setdefault(attr, []).append(first)
                return first
            if isinstance(expr.func, cst.Attribute):
                method = expr.func.attr.value
                receiver = expr.func.value
                if method in _SWAP_METHODS or method == "permute":
                    swapped = _swaps(method, expr, self.construction)
                    if swapped:
                        self._note_sequence_first(receiver)
                    inner = self.value(receiver)
                    if swapped is None or inner is None:
                        return None
                    return 1 - inner if swapped else inner
                if method in _REDUCTIONS:
                    dim = expr.args[0].value if expr.args else None
                    for arg in expr.args:
                        if arg.keyword is not None and arg.keyword.value == "dim":
                            dim = arg.value
                    inner = self.value(receiver)
                    if dim is not None and _int(dim) == 0:
                        self._note_sequence_first(receiver)
                        return 0 if inner == 1 else None
                    return None
                if method in _PRESERVING_METHODS:
                    return self.value(receiver)
                if (dotted_name(receiver) or "") in {"torch", "F", "nn.functional", "torch.nn.functional"}:
                    if method in _SWAP_METHODS and expr.args:
                        swapped = _swaps(method, expr.with_changes(args=expr.args[1:]), None)
                        if swapped is None or first is None:
                            return None
                        return 1 - first if swapped else first
                    return first
                self.value(receiver)
                return None
            return first
        if isinstance(expr, cst.Subscript):
            inner = self.value(expr.value)
            index = expr.slice[0].slice if len(expr.slice) == 1 else None
            if isinstance(index, cst.Index) and _int(index.value) == -1:
                self._note_sequence_first(expr.value)
            if isinstance(expr.value, cst.Call) and isinstance(index, cst.Index) and _int(index.value) == 0:
                return inner  # the first element of a module's tuple output
            return None
        if isinstance(expr, cst.BinaryOperation):
            left = self.value(expr.left)
            right = self.value(expr.right)
            return left if left is not None else right
        for child in expr.children:
            if isinstance(child, cst.BaseExpression):
                self.value(child)
        return None


class DataLayout:
    """Evidence that a layer of a model gets time-major data."""

    def __init__(self, project: Project) -> None:
        self.project = project
        self._forwards: dict[tuple[ClassInfo, cst.Call | None], _Forward | None] = {}

    def forward(self, cls: ClassInfo, construction: cst.Call | None) -> _Forward | None:
        key = (cls, construction)
        if key not in self._forwards:
            found = self.project.index.find_method(cls, "forward")
            self._forwards[key] = _Forward(found[1].node, construction) if found is not None else None
        return self._forwards[key]

    def transfer(self, kind: ModuleKind) -> int:
        """How a container element changes the layout: 1 for a `Permute(1, 0, 2)`-like module."""
        if kind.project_class is None:
            return 0
        forward = self.forward(kind.project_class, kind.call)
        if forward is None or not forward.returned:
            return 0
        values = set(forward.returned)
        return values.pop() or 0 if len(values) == 1 else 0

    def time_major(self, use: LayerUse) -> bool:
        """Is the data reaching `use` (or what its output is read as) sequence-first?"""
        instance = use.instance
        path = use.path
        parity = 0
        first = True
        while instance is not None:
            rel = path[len(instance.path) + 1:] if path.startswith(instance.path + ".") else ""
            attr = re.match(r"[A-Za-z_]\w*", rel)
            if attr is None:
                return False
            name = attr.group(0)
            binding = instance.bound_by.get(instance.cls)
            forward = self.forward(instance.cls, binding.call if binding is not None else None)
            if forward is not None:
                if first and name in forward.sequence_first_outputs:
                    return True
                known = [p for p in forward.inputs.get(name, []) if p is not None]
                parity += known[0] if known and len(set(known)) == 1 else 0
            index = re.match(r"\[(\d+)\]", rel[len(name):])
            sub = self.project.modules.model(instance.cls).submodules.get(name)
            if index is not None and sub is not None:
                for element in sub.kind.elements[:int(index.group(1))]:
                    parity += self.transfer(element)
            first = False
            path = instance.path
            instance = binding.instance if binding is not None else None
        return parity % 2 == 1

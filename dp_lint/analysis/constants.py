"""One evaluator of constructor and call arguments: an expression, as written in a module, to
a constant or UNKNOWN.

    nn.Linear(WIDTH * 2, n_classes)      # WIDTH = 64 at module level, n_classes bound by the caller

`literal` reads what is constant in the text itself (numbers, strings, `True`/`False`/`None`,
a negated number, a module-level name assigned one of those). `ConstantEvaluator` adds what
its user can see, each part chosen by the user because each changes what is known:

- `names`: local names (an `__init__`'s bound parameters, a factory's, single assignments);
  whatever they stand for is the value (a constant, a module built elsewhere, UNKNOWN);
- `self_attribute`: `self.<x>` written in `__init__`;
- `negation`: `not <x>`; `arithmetic`: `+ - * / // % **` on numbers and `int(<x>)`;
- `sequences` / `dicts`: lists, tuples (and dicts with string keys) of constants, also as
  module-level constants with `container_constants`;
- `comparisons`: `==`, `!=`, `<`..., `in`, `is`, `and`/`or`, `a if c else b`;
- `attributes`: `<value>.<name>` of what an expression evaluates to (a config object, a
  namespace, a module reference: see `objects.py`); `mutated(base, attr)` says a local object's
  attribute is written after construction (then unknown); `calls`: the value of a call;
- `otherwise`: a last resort for anything else (another evaluator's view of the same scope).

Anything else is UNKNOWN, and UNKNOWN never produces a finding.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeGuard

import libcst as cst

from dp_lint.analysis.index import ModuleInfo
from dp_lint.analysis.values import UNKNOWN, Constant, Unknown
from dp_lint.files.syntax import dotted_name, is_self

NameLookup = Callable[[str, int], object]
"""A local name (and the current depth) -> its value, UNKNOWN when not known."""


def literal(expr: cst.BaseExpression | None, module: ModuleInfo | None) -> Constant | Unknown:
    """Python literal value of `expr` (following module-level constants), or UNKNOWN."""
    if expr is None:
        return UNKNOWN
    if isinstance(expr, cst.Name):
        if expr.value in {"True", "False", "None"}:
            return {"True": True, "False": False, "None": None}[expr.value]
        if module is not None and expr.value in module.assignments:
            target = module.assignments[expr.value]
            if not isinstance(target, cst.Name):
                return literal(target, None)
        return UNKNOWN
    if isinstance(expr, cst.Integer):
        return int(expr.value.replace("_", ""), 0)
    if isinstance(expr, cst.Float):
        try:
            return float(expr.value.replace("_", ""))
        except ValueError:
            return UNKNOWN
    if isinstance(expr, cst.SimpleString):
        return expr.evaluated_value
    if isinstance(expr, cst.UnaryOperation) and isinstance(expr.operator, cst.Minus):
        inner = literal(expr.expression, module)
        return -inner if isinstance(inner, (int, float)) and not isinstance(inner, bool) else UNKNOWN
    return UNKNOWN


@dataclass(frozen=True)
class ConstantEvaluator:
    """Evaluates expressions written in `module` (see the module docstring for the parts)."""

    module: ModuleInfo | None = None
    names: NameLookup | None = None
    self_attribute: NameLookup | None = None
    negation: bool = False
    arithmetic: bool = False
    sequences: bool = False
    dicts: bool = False
    container_constants: bool = False
    otherwise: Callable[[cst.BaseExpression], object] | None = None
    max_depth: int = 12
    comparisons: bool = False
    attributes: Callable[[object, str], object] | None = None
    calls: Callable[[cst.Call, int], object] | None = None
    mutated: Callable[[str, str], bool] | None = None

    def evaluate(self, expr: cst.BaseExpression | None, depth: int = 0) -> object:
        if expr is None or depth > self.max_depth:
            return UNKNOWN
        if self.arithmetic:
            if isinstance(expr, cst.BinaryOperation):
                return arithmetic(expr.operator, self.evaluate(expr.left, depth + 1), self.evaluate(expr.right, depth + 1))
            if isinstance(expr, cst.Call) and dotted_name(expr.func) == "int" and len(expr.args) == 1:
                value = self.evaluate(expr.args[0].value, depth + 1)
                return int(value) if is_number(value) else UNKNOWN
        if self.sequences and isinstance(expr, (cst.List, cst.Tuple)):
            values = [self.evaluate(e.value, depth + 1) for e in expr.elements if not isinstance(e, cst.StarredElement)]
            if len(values) != len(expr.elements) or any(v is UNKNOWN for v in values):
                return UNKNOWN
            return values if isinstance(expr, cst.List) else tuple(values)
        if self.dicts and isinstance(expr, cst.Dict):
            result = {}
            for element in expr.elements:
                if isinstance(element, cst.StarredDictElement):
                    inner = self.evaluate(element.value, depth + 1)
                    if not isinstance(inner, dict):
                        return UNKNOWN
                    result.update(inner)
                    continue
                if not isinstance(element, cst.DictElement):
                    return UNKNOWN
                key, value = self.evaluate(element.key, depth + 1), self.evaluate(element.value, depth + 1)
                if key is UNKNOWN or value is UNKNOWN or not isinstance(key, str):
                    return UNKNOWN
                result[key] = value
            return result
        if self.container_constants and isinstance(expr, cst.Name) and self.module is not None:
            target = self.module.assignments.get(expr.value)
            if isinstance(target, (cst.List, cst.Tuple, cst.Dict)):
                # A module-level container of constants (written without module context).
                return ConstantEvaluator(sequences=self.sequences, dicts=self.dicts).evaluate(target, depth + 1)
        value = literal(expr, self.module)
        if value is not UNKNOWN:
            return value
        if isinstance(expr, cst.Name):
            return self.names(expr.value, depth) if self.names is not None else UNKNOWN
        if self.self_attribute is not None and isinstance(expr, cst.Attribute) and is_self(expr.value):
            return self.self_attribute(expr.attr.value, depth)
        if self.negation and isinstance(expr, cst.UnaryOperation) and isinstance(expr.operator, cst.Not):
            inner = self.evaluate(expr.expression, depth + 1)
            return UNKNOWN if inner is UNKNOWN or not _is_plain(inner) else (not inner)
        if self.comparisons:
            if isinstance(expr, cst.Comparison):
                return self._compare(expr, depth)
            if isinstance(expr, cst.BooleanOperation):
                left = self.evaluate(expr.left, depth + 1)
                if left is UNKNOWN or not _is_plain(left):
                    return UNKNOWN
                if isinstance(expr.operator, cst.And):
                    return self.evaluate(expr.right, depth + 1) if left else left
                return left if left else self.evaluate(expr.right, depth + 1)
            if isinstance(expr, cst.IfExp):
                test = self.evaluate(expr.test, depth + 1)
                if test is UNKNOWN or not _is_plain(test):
                    return UNKNOWN
                return self.evaluate(expr.body if test else expr.orelse, depth + 1)
        if self.dicts and isinstance(expr, cst.Subscript) and len(expr.slice) == 1:
            index = expr.slice[0].slice
            if isinstance(index, cst.Index):
                container = self.evaluate(expr.value, depth + 1)
                key = self.evaluate(index.value, depth + 1)
                if isinstance(container, dict) and isinstance(key, str):
                    return container.get(key, UNKNOWN)
            return UNKNOWN
        if self.attributes is not None and isinstance(expr, cst.Attribute) and not is_self(expr.value):
            if (self.mutated is not None and isinstance(expr.value, cst.Name)
                    and self.mutated(expr.value.value, expr.attr.value)):
                return UNKNOWN
            base = self.evaluate(expr.value, depth + 1)
            return UNKNOWN if base is UNKNOWN else self.attributes(base, expr.attr.value)
        if self.calls is not None and isinstance(expr, cst.Call):
            return self.calls(expr, depth + 1)
        if self.otherwise is not None:
            return self.otherwise(expr)
        return UNKNOWN

    def _compare(self, expr: cst.Comparison, depth: int) -> object:
        left = self.evaluate(expr.left, depth + 1)
        for target in expr.comparisons:
            right = self.evaluate(target.comparator, depth + 1)
            compare = _COMPARE.get(type(target.operator))
            if (isinstance(target.operator, (cst.Is, cst.IsNot)) and (left is None or right is None)
                    and UNKNOWN not in (left, right)):
                if (left is right) != isinstance(target.operator, cst.Is):
                    return False
                left = right
                continue
            if compare is None or left is UNKNOWN or right is UNKNOWN or not (_is_plain(left) and _is_plain(right)):
                return UNKNOWN
            try:
                if not compare(left, right):
                    return False
            except TypeError:
                return UNKNOWN
            left = right
        return True


def _is_plain(value: object) -> bool:
    """A Python constant or container of them (what `not`/`==` may be applied to)."""
    return value is None or isinstance(value, (bool, int, float, str, bytes, tuple, list, dict))


_COMPARE: dict[type, Callable[[object, object], bool]] = {
    cst.Equal: lambda a, b: a == b,
    cst.NotEqual: lambda a, b: a != b,
    cst.Is: lambda a, b: a is b if a is None or b is None or isinstance(a, bool) else a == b,
    cst.IsNot: lambda a, b: a is not b if a is None or b is None or isinstance(a, bool) else a != b,
    cst.In: lambda a, b: a in b,  # type: ignore[operator]
    cst.NotIn: lambda a, b: a not in b,  # type: ignore[operator]
    cst.LessThan: lambda a, b: a < b,  # type: ignore[operator]
    cst.LessThanEqual: lambda a, b: a <= b,  # type: ignore[operator]
    cst.GreaterThan: lambda a, b: a > b,  # type: ignore[operator]
    cst.GreaterThanEqual: lambda a, b: a >= b,  # type: ignore[operator]
}


def is_number(value: object) -> TypeGuard[int | float]:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def arithmetic(operator: cst.BaseBinaryOp, left: object, right: object) -> object:
    """`left <operator> right` for two numbers, else UNKNOWN."""
    if not (is_number(left) and is_number(right)):
        return UNKNOWN
    try:
        if isinstance(operator, cst.Add):
            return left + right
        if isinstance(operator, cst.Subtract):
            return left - right
        if isinstance(operator, cst.Multiply):
            return left * right
        if isinstance(operator, cst.FloorDivide):
            return left // right
        if isinstance(operator, cst.Divide):
            return left / right
        if isinstance(operator, cst.Modulo):
            return left % right
        if isinstance(operator, cst.Power) and abs(right) < 64:
            return left ** right
    except (ArithmeticError, ValueError):
        return UNKNOWN
    return UNKNOWN


def constructor_setting(
    call: cst.Call | None,
    keyword: str,
    position: int | None,
    evaluate: Callable[[cst.BaseExpression], object],
    missing: object,
) -> object:
    """The value a construction passes for a setting (by `keyword`, or at `position` among
    the positional arguments, or in a `**kwargs` dict `evaluate` reads), `missing` when it
    passes none, UNKNOWN when `*args`/`**kwargs` may pass it."""
    if call is None:
        return UNKNOWN
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == keyword:
            return evaluate(arg.value)
    for arg in call.args:
        if arg.star == "**":
            # `**kwargs` built from a dict dp-lint can read: the setting is there or not passed.
            passed = evaluate(arg.value)
            if not isinstance(passed, dict):
                return UNKNOWN
            if keyword in passed:
                return passed[keyword]
    if any(a.star == "*" for a in call.args):
        return UNKNOWN
    positional = [a for a in call.args if a.keyword is None]
    if position is not None and len(positional) > position:
        return evaluate(positional[position].value)
    return missing


def python_literal(value: object) -> str:
    """Python source for a constant (the inverse of the evaluator), `...` for anything else."""
    if value is None or isinstance(value, (bool, int, str)):
        return repr(value)
    if isinstance(value, float):
        text = repr(value)
        return text if text not in ("inf", "-inf", "nan") else "..."
    if isinstance(value, (list, tuple)):
        inner = ", ".join(python_literal(v) for v in value)
        if isinstance(value, tuple):
            return f"({inner},)" if len(value) == 1 else f"({inner})"
        return f"[{inner}]"
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        return "{" + ", ".join(f"{k!r}: {python_literal(v)}" for k, v in value.items()) + "}"
    return "..."

"""Uses of the Opacus 0.x API, which Opacus 1.0 removed (`Project.legacy_api_uses`).

Found through the project index's import resolution, never by name alone:

- a construction of opacus' `PrivacyEngine` (`from opacus import PrivacyEngine`, `import opacus`,
  `opacus.privacy_engine.PrivacyEngine`, aliases) with a positional argument or a keyword other
  than `accountant`/`secure_mode`, the only parameters of the 1.x constructor: `TypeError`;
- `attach(...)`/`get_privacy_spent(...)` called on a name (or `self.` attribute) bound to such a
  construction, or on the construction itself: `AttributeError`. Not reported when that
  construction is itself 0.x-shaped (it raises first);
- imports of `opacus.dp_model_inspector` and `opacus.utils.module_modification` (anywhere in the
  file, also inside functions): `ModuleNotFoundError`/`ImportError`.

A use inside a `try` whose handler catches the error it raises, inside an `except ImportError:`
handler of a `try` that imports (the fallback of a failed import), or inside either branch of an
`if` whose test reads a version (`opacus.__version__`, `version("opacus")`, `OPACUS_VERSION`), is
left out: the script chose what to run per release.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from enum import Enum

import libcst as cst

from dp_lint.analysis.index import ModuleInfo, ProjectIndex
from dp_lint.files.source import SourceFile
from dp_lint.files.syntax import Parents, dotted_name

ENGINE_CLASSES = frozenset({"opacus.PrivacyEngine", "opacus.privacy_engine.PrivacyEngine"})
# The whole signature of `PrivacyEngine.__init__` on opacus 1.x: `(self, *, accountant="prv", secure_mode=False)`.
ENGINE_KEYWORDS = frozenset({"accountant", "secure_mode"})
REMOVED_METHODS = frozenset({"attach", "get_privacy_spent"})
REMOVED_MODULES = ("opacus.dp_model_inspector", "opacus.utils.module_modification")


class LegacyKind(str, Enum):
    CONSTRUCTOR = "constructor"
    METHOD = "method"
    IMPORT = "import"


@dataclass(frozen=True)
class LegacyUse:
    """One 0.x API use. `node`: the call or import statement; `written`: the call's function or the
    imported module as written; `error`: the exception Opacus >= 1.0 raises (measured on 1.4.1-1.6.0);
    `keywords`: the constructor's keywords (CONSTRUCTOR only)."""

    file: SourceFile
    node: cst.CSTNode
    kind: LegacyKind
    written: str
    error: str
    keywords: tuple[str, ...] = ()


def find_legacy_api_uses(index: ProjectIndex) -> list[LegacyUse]:
    found: list[LegacyUse] = []
    for module in index.by_file.values():
        found.extend(_Finder(module).run())
    return found


class _Finder:
    def __init__(self, module: ModuleInfo) -> None:
        self.module = module
        self.file = module.file
        self.parents: Parents = module.file.parents

    def run(self) -> Iterator[LegacyUse]:
        nodes: list[cst.CSTNode] = []

        class Collect(cst.CSTVisitor):
            def visit_Import(self, node: cst.Import) -> None:
                nodes.append(node)

            def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
                nodes.append(node)

            def visit_Call(self, node: cst.Call) -> None:
                nodes.append(node)

        self.file.module.visit(Collect())
        for node in nodes:
            use = self._use(node)
            if use is not None and not self._guarded(node, use.error.split(":")[0]):
                yield use

    # -- what each node is ------------------------------------------------------------

    def _use(self, node: cst.CSTNode) -> LegacyUse | None:
        if isinstance(node, cst.Import):
            for alias in node.names:
                name = dotted_name(alias.name) or ""
                removed = _removed_module(name)
                if removed:
                    return LegacyUse(self.file, node, LegacyKind.IMPORT, removed,
                                     f"ModuleNotFoundError: No module named '{removed}'")
            return None
        if isinstance(node, cst.ImportFrom):
            return self._import_from(node)
        if isinstance(node, cst.Call):
            if self._is_engine_class(node.func):
                return self._constructor(node)
            return self._method(node)
        return None

    def _import_from(self, node: cst.ImportFrom) -> LegacyUse | None:
        if node.relative or node.module is None:
            return None
        base = dotted_name(node.module) or ""
        removed = _removed_module(base)
        if removed:
            missing = removed if base == removed or base.startswith(removed + ".") else base
            return LegacyUse(self.file, node, LegacyKind.IMPORT, missing,
                             f"ModuleNotFoundError: No module named '{missing}'")
        if isinstance(node.names, cst.ImportStar):
            return None
        for alias in node.names:
            full = f"{base}.{dotted_name(alias.name)}"
            if full in REMOVED_MODULES:
                return LegacyUse(self.file, node, LegacyKind.IMPORT, full,
                                 f"ImportError: cannot import name '{dotted_name(alias.name)}' from '{base}'")
        return None

    def _constructor(self, call: cst.Call) -> LegacyUse | None:
        if any(arg.star for arg in call.args):
            return None  # `*args`/`**kwargs`: what they hold is unknown
        positional = [arg for arg in call.args if arg.keyword is None]
        keywords = tuple(arg.keyword.value for arg in call.args if arg.keyword is not None)
        unexpected = [k for k in keywords if k not in ENGINE_KEYWORDS]
        if positional:
            error = f"TypeError: PrivacyEngine.__init__() takes 1 positional argument but {len(positional) + 1} were given"
        elif unexpected:
            error = f"TypeError: PrivacyEngine.__init__() got an unexpected keyword argument '{unexpected[0]}'"
        else:
            return None
        return LegacyUse(self.file, call, LegacyKind.CONSTRUCTOR, dotted_name(call.func) or "PrivacyEngine",
                         error, keywords)

    def _method(self, call: cst.Call) -> LegacyUse | None:
        func = call.func
        if not isinstance(func, cst.Attribute) or func.attr.value not in REMOVED_METHODS:
            return None
        receiver = func.value
        constructions = [receiver] if isinstance(receiver, cst.Call) else self._bound_to(receiver, call)
        engines = [c for c in constructions if isinstance(c, cst.Call) and self._is_engine_class(c.func)]
        if not engines or len(engines) != len(constructions):
            return None  # not every binding is opacus' PrivacyEngine: unknown
        if any(self._constructor(c) is not None for c in engines):
            return None  # the construction raises first (reported there)
        written = f"{dotted_name(receiver) or 'PrivacyEngine()'}.{func.attr.value}"
        return LegacyUse(self.file, call, LegacyKind.METHOD, written,
                         f"AttributeError: 'PrivacyEngine' object has no attribute '{func.attr.value}'")

    # -- resolution ---------------------------------------------------------------------

    def _is_engine_class(self, func: cst.BaseExpression) -> bool:
        name = dotted_name(func)
        if name is None:
            return False
        if self.module.resolve_expr(func) in ENGINE_CLASSES:
            return True
        # `from opacus import PrivacyEngine` inside the enclosing function (scripts' `main`).
        head = name.partition(".")[0]
        function = self._enclosing(func, cst.FunctionDef)
        while function is not None:
            imported = _local_imports(function).get(head)
            if imported is not None:
                rest = name.partition(".")[2]
                return (f"{imported}.{rest}" if rest else imported) in ENGINE_CLASSES
            function = self._enclosing(function, cst.FunctionDef)
        return False

    def _bound_to(self, receiver: cst.BaseExpression, where: cst.CSTNode) -> list[cst.BaseExpression]:
        """The values assigned to `receiver` (a name, or `self.x`) in the function around `where`, or
        at module level for a module-level name, or in any method of the class for `self.x`."""
        name = dotted_name(receiver)
        if name is None:
            return []
        if name.startswith("self.") and name.count(".") == 1:
            scope: cst.CSTNode | None = self._enclosing(where, cst.ClassDef)
        elif "." not in name:
            scope = self._enclosing(where, cst.FunctionDef)
            if scope is None or not _assignments(scope, name):
                scope = self.file.module
        else:
            return []
        return _assignments(scope, name) if scope is not None else []

    def _enclosing(self, node: cst.CSTNode, kind: type) -> cst.CSTNode | None:
        parent = self.parents.get(node)
        while parent is not None and not isinstance(parent, kind):
            parent = self.parents.get(parent)
        return parent

    def _guarded(self, node: cst.CSTNode, error: str) -> bool:
        child, parent = node, self.parents.get(node)
        while parent is not None:
            if isinstance(parent, cst.Try) and child is parent.body and any(_catches(h, error) for h in parent.handlers):
                return True
            if isinstance(parent, cst.ExceptHandler) and _catches(parent, "ImportError") and parent.type is not None:
                owner = self.parents.get(parent)
                if isinstance(owner, cst.Try) and _imports_in(owner.body):
                    return True  # the fallback of a failed import: runs on the other release only
            if isinstance(parent, (cst.If, cst.IfExp)) and child is not parent.test and _reads_version(parent.test):
                return True
            if isinstance(parent, cst.Else) and isinstance(self.parents.get(parent), cst.If):
                owner = self.parents[parent]
                if isinstance(owner, cst.If) and _reads_version(owner.test):
                    return True
            child, parent = parent, self.parents.get(parent)
        return False


_CATCHES = {
    "ModuleNotFoundError": {"ModuleNotFoundError", "ImportError", "Exception", "BaseException"},
    "ImportError": {"ImportError", "Exception", "BaseException"},
    "TypeError": {"TypeError", "Exception", "BaseException"},
    "AttributeError": {"AttributeError", "Exception", "BaseException"},
}


def _catches(handler: cst.ExceptHandler, error: str) -> bool:
    if handler.type is None:
        return True
    types = [e.value for e in handler.type.elements] if isinstance(handler.type, cst.Tuple) else [handler.type]
    names = {(dotted_name(t) or "").rsplit(".", 1)[-1] for t in types}
    return bool(names & _CATCHES.get(error, {"Exception", "BaseException"}))


def _reads_version(test: cst.BaseExpression) -> bool:
    """Does an `if` test read a version: `opacus.__version__`, `version("opacus")`, `OPACUS_VERSION`?"""
    found = False

    class Look(cst.CSTVisitor):
        def visit_Name(self, node: cst.Name) -> None:
            nonlocal found
            found = found or "version" in node.value.lower()

    test.visit(Look())
    return found


def _imports_in(node: cst.CSTNode) -> bool:
    found = False

    class Look(cst.CSTVisitor):
        def visit_Import(self, _: cst.Import) -> None:
            nonlocal found
            found = True

        def visit_ImportFrom(self, _: cst.ImportFrom) -> None:
            nonlocal found
            found = True

    node.visit(Look())
    return found


def _removed_module(name: str) -> str | None:
    for removed in REMOVED_MODULES:
        if name == removed or name.startswith(removed + "."):
            return removed
    return None


def _local_imports(function: cst.CSTNode) -> dict[str, str]:
    """`from X import Y [as Z]` / `import X [as Z]` statements of a function's own body (nested blocks
    included, nested functions not): local name -> qualified name."""
    imports: dict[str, str] = {}

    class Collect(cst.CSTVisitor):
        def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
            return node is function

        def visit_ClassDef(self, node: cst.ClassDef) -> bool:
            return False

        def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
            if node.relative or node.module is None or isinstance(node.names, cst.ImportStar):
                return
            base = dotted_name(node.module)
            for alias in node.names:
                local = alias.asname.name if alias.asname is not None else alias.name
                if isinstance(local, cst.Name):
                    imports[local.value] = f"{base}.{dotted_name(alias.name)}"

        def visit_Import(self, node: cst.Import) -> None:
            for alias in node.names:
                full = dotted_name(alias.name) or ""
                if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                    imports[alias.asname.name.value] = full
                else:
                    imports.setdefault(full.split(".")[0], full.split(".")[0])

    function.visit(Collect())
    return imports


def _assignments(scope: cst.CSTNode, name: str) -> list[cst.BaseExpression]:
    values: list[cst.BaseExpression] = []
    outer = scope

    class Collect(cst.CSTVisitor):
        def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
            # A name's own function, a class's methods (for `self.x`); not the functions of a module.
            return node is outer or isinstance(outer, cst.ClassDef) or name.startswith("self.")

        def visit_Assign(self, node: cst.Assign) -> None:
            for target in node.targets:
                if dotted_name(target.target) == name:
                    values.append(node.value)
                elif isinstance(target.target, (cst.Tuple, cst.List)) and any(
                        dotted_name(e.value) == name for e in target.target.elements):
                    values.append(target.target)  # unpacked: not a construction

        def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
            if dotted_name(node.target) == name and node.value is not None:
                values.append(node.value)

        def visit_AugAssign(self, node: cst.AugAssign) -> None:
            if dotted_name(node.target) == name:
                values.append(node.value)

        def visit_For(self, node: cst.For) -> None:
            if dotted_name(node.target) == name:
                values.append(node.target)

        def visit_WithItem(self, node: cst.WithItem) -> None:
            if node.asname is not None and dotted_name(node.asname.name) == name:
                values.append(node.asname.name)

        def visit_Param(self, node: cst.Param) -> None:
            if node.name.value == name:
                values.append(node.name)

    scope.visit(Collect())
    return values



"""The project index: modules, imports, classes and functions, built once and shared by every rule.

Names are resolved statically: `import torch.nn as nn` makes `nn.Linear` mean
`torch.nn.Linear`; `from .models import Net` inside package `pkg` makes `Net` mean
`pkg.models.Net`; a package `__init__` that re-exports a name is followed to the
defining module. Nothing is imported or executed.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import cached_property

import libcst as cst

from dp_lint.files.source import SourceFile
from dp_lint.files.syntax import dotted_name


def _module_dotted(expr: cst.BaseExpression | None) -> str:
    return (dotted_name(expr) or "") if expr is not None else ""


@dataclass(eq=False)
class FunctionInfo:
    name: str
    qualname: str
    module: ModuleInfo
    node: cst.FunctionDef

    @cached_property
    def params(self) -> list[cst.Param]:
        p = self.node.params
        return [*p.posonly_params, *p.params, *p.kwonly_params]

    def decorator_names(self) -> list[str]:
        names = []
        for decorator in self.node.decorators:
            expr = decorator.decorator
            if isinstance(expr, cst.Call):
                expr = expr.func
            name = dotted_name(expr)
            if name:
                names.append(self.module.resolve(name))
        return names


@dataclass(eq=False)
class ClassInfo:
    name: str
    qualname: str
    module: ModuleInfo
    node: cst.ClassDef
    methods: dict[str, FunctionInfo] = field(default_factory=dict)

    @cached_property
    def base_names(self) -> list[str]:
        names = []
        for arg in self.node.bases:
            name = dotted_name(arg.value)
            if isinstance(arg.value, cst.Subscript):  # Generic[T]-style bases
                name = dotted_name(arg.value.value)
            if name:
                names.append(self.module.index.canonical(self.module.resolve(name)))
        return names

    @property
    def file(self) -> SourceFile:
        return self.module.file

    def __repr__(self) -> str:
        return f"<class {self.qualname}>"


@dataclass(eq=False)
class ModuleInfo:
    name: str
    file: SourceFile
    is_package: bool
    index: ProjectIndex
    imports: dict[str, str] = field(default_factory=dict)
    classes: dict[str, ClassInfo] = field(default_factory=dict)
    functions: dict[str, FunctionInfo] = field(default_factory=dict)
    # Module-level `NAME = <expr>` assignments (constants, factories, models).
    assignments: dict[str, cst.BaseExpression] = field(default_factory=dict)
    root: str = ""  # the folder holding this module's top-level package (or the script)

    def resolve(self, dotted: str) -> str:
        """Qualified name of a dotted name as written in this module."""
        head, _, rest = dotted.partition(".")
        if head in self.imports:
            base = self.index.localize(self.imports[head], self)
        elif head in self.classes or head in self.functions or head in self.assignments:
            base = f"{self.name}.{head}"
        else:
            return dotted
        return f"{base}.{rest}" if rest else base

    def binds(self, dotted: str) -> bool:
        """Whether the first name of `dotted` is bound at module level here (imported or
        defined): `engine.make_private` with a local `engine = PrivacyEngine()` is not the
        project module `engine`'s function."""
        head = dotted.partition(".")[0]
        return head in self.imports or head in self.classes or head in self.functions or head in self.assignments

    def resolve_expr(self, expr: cst.BaseExpression) -> str | None:
        name = dotted_name(expr)
        return self.index.canonical(self.resolve(name)) if name else None

    def _relative_base(self, level: int) -> str:
        parts = self.name.split(".")
        if not self.is_package:
            parts = parts[:-1]
        if level > 1:
            parts = parts[: len(parts) - (level - 1)]
        return ".".join(parts)


class ProjectIndex:
    """All modules of the checked files, by dotted name."""

    def __init__(self, files: list[SourceFile]):
        self.modules: dict[str, ModuleInfo] = {}
        self.by_file: dict[SourceFile, ModuleInfo] = {}
        # Two files can have the same dotted name (`a/model.py` and `b/model.py`, scripts of
        # two small projects checked together). Like Python's `sys.path[0]`, an import is
        # resolved against the copy under the importing file's own root folder; such
        # modules are keyed `name@root`.
        by_name: dict[str, list[SourceFile]] = {}
        for source in files:
            by_name.setdefault(source.module_name, []).append(source)
        self._duplicates: dict[str, dict[str, str]] = {}
        for name, sources in by_name.items():
            for source in sources:
                key = name if len(sources) == 1 else f"{name}@{_root_folder(source)}"
                if len(sources) > 1:
                    self._duplicates.setdefault(name, {})[_root_folder(source)] = key
                info = ModuleInfo(key, source, source.path.name == "__init__.py", self)
                info.root = _root_folder(source)
                _ModuleScanner(info).scan(source.module.body)
                self.modules[key] = info
                self.by_file[source] = info

    def localize(self, qualname: str, importer: ModuleInfo) -> str:
        """Point an imported name at the copy of a duplicated module next to `importer`."""
        if not self._duplicates:
            return qualname
        parts = qualname.split(".")
        for cut in range(len(parts), 0, -1):
            copies = self._duplicates.get(".".join(parts[:cut]))
            if copies:
                key = copies.get(importer.root) or next(iter(copies.values()))
                return ".".join([key, *parts[cut:]])
        return qualname

    # -- name resolution ---------------------------------------------------------

    def canonical(self, qualname: str) -> str:
        """Follow re-exports: `pkg.Net` -> `pkg.models.Net` when `pkg/__init__` imports it."""
        for _ in range(16):
            module, symbol, rest = self._split(qualname)
            if module is None or symbol is None or symbol not in module.imports:
                return qualname
            if symbol in module.classes or symbol in module.functions:
                return qualname
            target = module.imports[symbol]
            qualname = f"{target}.{rest}" if rest else target
        return qualname

    def _split(self, qualname: str) -> tuple[ModuleInfo | None, str | None, str]:
        parts = qualname.split(".")
        for cut in range(len(parts) - 1, 0, -1):
            module = self.modules.get(".".join(parts[:cut]))
            if module is not None:
                return module, parts[cut], ".".join(parts[cut + 1:])
        return None, None, ""

    def lookup_class(self, qualname: str) -> ClassInfo | None:
        module, symbol, rest = self._split(self.canonical(qualname))
        if module is None or symbol is None or rest:
            return None
        return module.classes.get(symbol)

    def lookup_function(self, qualname: str) -> FunctionInfo | None:
        module, symbol, rest = self._split(self.canonical(qualname))
        if module is None or symbol is None or rest:
            return None
        return module.functions.get(symbol)

    def classes(self) -> Iterator[ClassInfo]:
        for module in self.by_file.values():
            yield from module.classes.values()

    @cached_property
    def subclasses(self) -> dict[ClassInfo, list[ClassInfo]]:
        children: dict[ClassInfo, list[ClassInfo]] = {}
        for cls in self.classes():
            for base in self.project_bases(cls):
                children.setdefault(base, []).append(cls)
        return children

    def project_bases(self, cls: ClassInfo) -> list[ClassInfo]:
        return [b for b in (self.lookup_class(n) for n in cls.base_names) if b is not None]

    def mro(self, cls: ClassInfo) -> list[ClassInfo]:
        """Project classes in method-resolution order (depth-first, left to right, no repeats)."""
        order: list[ClassInfo] = []

        def visit(c: ClassInfo, depth: int) -> None:
            if c in order or depth > 32:
                return
            order.append(c)
            for base in self.project_bases(c):
                visit(base, depth + 1)

        visit(cls, 0)
        return order

    def external_bases(self, cls: ClassInfo) -> list[str]:
        """Qualified names of non-project base classes anywhere in the hierarchy."""
        return [n for c in self.mro(cls) for n in c.base_names if self.lookup_class(n) is None]

    def find_method(self, cls: ClassInfo, name: str, after: ClassInfo | None = None) -> tuple[ClassInfo, FunctionInfo] | None:
        chain = self.mro(cls)
        if after is not None and after in chain:
            chain = chain[chain.index(after) + 1:]
        for c in chain:
            if name in c.methods:
                return c, c.methods[name]
        return None

    def all_subclasses(self, cls: ClassInfo) -> list[ClassInfo]:
        found: list[ClassInfo] = []
        stack = [cls]
        while stack:
            for child in self.subclasses.get(stack.pop(), []):
                if child not in found:
                    found.append(child)
                    stack.append(child)
        return found


def _root_folder(source: SourceFile) -> str:
    # `pkg/models/net.py` (pkg.models.net): three folders up is the root; a package's
    # `__init__.py` sits one level deeper than its dotted name says.
    steps = len(source.module_name.split(".")) + (1 if source.path.name == "__init__.py" else 0)
    folder = source.path.resolve()
    for _ in range(steps):
        folder = folder.parent
    return str(folder)


class _ModuleScanner:
    """Top-level statements only (and those nested in if/try/with): cheap by design."""

    def __init__(self, info: ModuleInfo):
        self.info = info

    def scan(self, body: Sequence[cst.CSTNode]) -> None:
        for stmt in body:
            if isinstance(stmt, cst.SimpleStatementLine):
                for small in stmt.body:
                    self._small(small)
            elif isinstance(stmt, cst.ClassDef):
                self._class(stmt)
            elif isinstance(stmt, cst.FunctionDef):
                qual = f"{self.info.name}.{stmt.name.value}"
                self.info.functions[stmt.name.value] = FunctionInfo(stmt.name.value, qual, self.info, stmt)
            elif isinstance(stmt, cst.If):
                self.scan(stmt.body.body)
                orelse = stmt.orelse
                while orelse is not None:
                    self.scan(orelse.body.body)
                    orelse = getattr(orelse, "orelse", None)
            elif isinstance(stmt, cst.Try):
                self.scan(stmt.body.body)
                for handler in stmt.handlers:
                    self.scan(handler.body.body)
                if stmt.orelse:
                    self.scan(stmt.orelse.body.body)

    def _small(self, small: cst.BaseSmallStatement) -> None:
        info = self.info
        if isinstance(small, cst.Import):
            for alias in small.names:
                full = _module_dotted(alias.name)
                if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                    info.imports[alias.asname.name.value] = full
                else:
                    head = full.split(".")[0]
                    info.imports.setdefault(head, head)
        elif isinstance(small, cst.ImportFrom):
            base = _module_dotted(small.module)
            level = len(small.relative)
            if level:
                prefix = info._relative_base(level)
                base = f"{prefix}.{base}" if base and prefix else (base or prefix)
            if isinstance(small.names, cst.ImportStar):
                return
            for alias in small.names:
                name = _module_dotted(alias.name)
                asname = alias.asname.name if alias.asname is not None else None
                local = asname.value if isinstance(asname, cst.Name) else name
                info.imports[local] = f"{base}.{name}" if base else name
        elif isinstance(small, (cst.Assign, cst.AnnAssign)):
            targets = small.targets if isinstance(small, cst.Assign) else [small]
            for target in targets:
                if isinstance(target.target, cst.Name) and small.value is not None:
                    info.assignments[target.target.value] = small.value

    def _class(self, node: cst.ClassDef) -> None:
        name = node.name.value
        cls = ClassInfo(name, f"{self.info.name}.{name}", self.info, node)
        body = node.body.body if isinstance(node.body, cst.IndentedBlock) else []
        for stmt in body:
            if isinstance(stmt, cst.FunctionDef):
                cls.methods[stmt.name.value] = FunctionInfo(
                    stmt.name.value, f"{cls.qualname}.{stmt.name.value}", self.info, stmt
                )
        self.info.classes[name] = cls

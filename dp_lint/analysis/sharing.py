"""One module object registered under two parents (what DPL112 reports).

Opacus' `GradSampleModule` walks the model with `module.children()` recursively and adds its
hooks to every trainable layer it meets. `children()` skips a repeated object only within one
parent (`self.b = self.a`, `nn.Sequential(layer, act, layer)` are fine), so a module held by two
*different* parents is met, and hooked, twice: its per-sample gradients are accumulated twice.

Found in a class's `__init__`:

    self.cpe1 = ConvPosEnc(dim)                 # first registration (in this class)
    self.block = SerialBlock(shared_cpe=self.cpe1)   # SerialBlock stores it: `self.cpe = shared_cpe`

    shared = nn.Linear(8, 8)
    self.left = Branch(shared)                  # first registration (in Branch)
    self.right = Branch(shared)                 # second registration

The handed-over module must be a constructor argument that the child class stores as a
submodule (`self.<name> = <parameter>`), and it must own trainable parameters. A child that
stores a copy (`self.module = copy.deepcopy(model)`, an EMA helper) holds another object.
"""

from __future__ import annotations

from dataclasses import dataclass

import libcst as cst

from dp_lint.analysis.index import ClassInfo
from dp_lint.analysis.models import ModuleKind, Submodule, Tri
from dp_lint.files.source import SourceFile
from dp_lint.files.syntax import bind_call, is_self_attribute


@dataclass(frozen=True)
class SharedRegistration:
    node: cst.CSTNode  # the argument handing the module to its second parent
    file: SourceFile
    module: str  # "`self.cpe1` (ConvPosEnc)"
    first: str  # where it was registered first: "`ParallelBlock.cpe1`"
    second: str  # "`ParallelBlock.block.cpe` (stored by SerialBlock)"


class SharedModules:
    def __init__(self, project):
        self.project = project
        self.models = project.modules
        self.index = project.index

    def registrations(self) -> list[SharedRegistration]:
        found = []
        for cls in self.project.module_classes():
            if not self.project.may_be_private(cls):
                continue
            found.extend(self.project.guarded(f"shared modules of {cls.qualname}", lambda c=cls: self._in(c), []))
        return found

    def _stored_parameter(self, child: ClassInfo, name: str) -> str | None:
        """The attribute under which `child` registers constructor parameter `name`, or None."""
        model = self.models.model(child)
        for attr, sub in model.submodules.items():
            if sub.kind.param == name and sub.alias_of is None and not sub.kind.copied:
                return attr
        return None

    def _handed(self, sub: Submodule):
        """(argument expression, attribute the child stores it as) for each module handed to
        the child built by `sub` and registered there."""
        kind = sub.kind
        if kind.project_class is None or kind.call is None:
            return
        init = kind.project_class.methods.get("__init__")
        if init is None:
            return
        bound = bind_call(init.node, kind.call, lambda expr: expr, lambda param: None, skip_self=True)
        for name, expr in bound.items():
            if expr is None:
                continue
            stored = self._stored_parameter(kind.project_class, name)
            if stored is not None:
                yield expr, stored

    def _in(self, cls: ClassInfo) -> list[SharedRegistration]:
        model = self.models.model(cls)
        module = cls.module
        init = cls.methods.get("__init__")
        if init is None:
            return []
        found = []
        # Registrations seen so far, by the object they hold: ("self", attr) or ("local", name).
        owners: dict[tuple, str] = {}
        locals_built: dict[str, ModuleKind] = {}
        body = init.node.body.body if isinstance(init.node.body, cst.IndentedBlock) else []
        for stmt in body:
            if not isinstance(stmt, cst.SimpleStatementLine):
                continue
            for small in stmt.body:
                if not isinstance(small, cst.Assign) or len(small.targets) != 1:
                    continue
                target = small.targets[0].target
                if isinstance(target, cst.Name):
                    kind = self.models.kind_of(module, small.value) if isinstance(small.value, cst.Call) else None
                    if kind is not None and kind.certain_module:
                        locals_built[target.value] = kind
                    else:
                        locals_built.pop(target.value, None)
                    continue
                if not (isinstance(target, cst.Attribute) and is_self_attribute(target)):
                    continue
                attr = target.attr.value
                sub = model.submodules.get(attr)
                if sub is None or sub.statement is not small:
                    continue
                value = small.value
                if isinstance(value, cst.Name) and value.value in locals_built:
                    key = ("local", value.value)
                    if key in owners:
                        found.append(self._registration(value, cls, owners[key], f"`{cls.name}.{attr}`",
                                                        locals_built[value.value], f"`{value.value}`"))
                    else:
                        owners[key] = f"`{cls.name}.{attr}`"
                    continue
                if sub.alias_of is None and sub.kind.project_class is None:
                    owners.setdefault(("self", attr), f"`{cls.name}.{attr}`")
                for expr, stored in self._handed(sub):
                    where = f"`{cls.name}.{attr}.{stored}` (stored by {sub.kind.project_class.name})"
                    if is_self_attribute(expr) and expr.attr.value in model.submodules:
                        key = ("self", expr.attr.value)
                        shared = model.submodules[expr.attr.value]
                        label = f"`self.{expr.attr.value}`"
                        kind = shared.kind
                    elif isinstance(expr, cst.Name) and expr.value in locals_built:
                        key = ("local", expr.value)
                        label = f"`{expr.value}`"
                        kind = locals_built[expr.value]
                    else:
                        continue
                    if key in owners:
                        found.append(self._registration(expr, cls, owners[key], where, kind, label))
                    else:
                        owners[key] = where
                if sub.alias_of is None and sub.kind.project_class is not None:
                    owners.setdefault(("self", attr), f"`{cls.name}.{attr}`")
        return [r for r in found if r is not None]

    def _registration(self, node, cls: ClassInfo, first: str, second: str, kind: ModuleKind, label: str):
        if kind.owns_parameters is not Tri.YES or kind.frozen:
            return None
        return SharedRegistration(node, cls.module.file, f"{label} ({kind.description})", first, second)

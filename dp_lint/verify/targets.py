"""Which models `dp-lint verify` builds, with which settings and inputs (static: no torch, no user code).

A target names a class or a factory function:

    examples/simsiam/model.py:SimSiam      # a file (relative to the project root) and a name in it
    textcls.model:TextClassifier           # a dotted module (found in the checked files, or on sys.path)

With no target, every model class wrapped by an engine call (`make_private`,
`make_private_with_epsilon`, `GradSampleModule(...)`) is verified, plus each
`[[tool.dp-lint.verify]]` table of the configuration. Settings come from, in order: the
configuration table for that model, the engine call that wraps it (its `batch_first`,
`loss_reduction`, `grad_sample_mode`, whether the model passed through
`ModuleValidator.fix`, the constructor arguments when they are literals), Opacus' defaults
(`batch_first` from `assume-batch-first` when no engine call wraps the model).
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from enum import Enum
from pathlib import Path
from typing import cast

import libcst as cst

from dp_lint.analysis.constants import ConstantEvaluator, python_literal
from dp_lint.analysis.engine_calls import EngineFinder
from dp_lint.analysis.index import ClassInfo, FunctionInfo, ModuleInfo
from dp_lint.analysis.project import Project
from dp_lint.analysis.values import UNKNOWN
from dp_lint.config.settings import Config, toml_value
from dp_lint.files.discovery import discover, module_name_for
from dp_lint.files.notebooks import is_notebook
from dp_lint.files.source import SourceError, parse_source
from dp_lint.files.syntax import assignments_in, calls_in, contains, dotted_name
from dp_lint.verify.inputs import InferredInputs, InputInference
from dp_lint.verify.specs import parse_input_spec

DEFAULT_BATCH_FIRST = True
DEFAULT_LOSS_REDUCTION = "mean"
DEFAULT_GRAD_SAMPLE_MODE = "hooks"
LOSS_REDUCTIONS = ("mean", "sum")
# `loss = "..."`: the sum of squares of the outputs (the default; a scalar output is used as it is),
# the sum of the outputs (a model returning per-sample losses), the output itself (a scalar loss).
BUILTIN_LOSSES = ("sum-of-squares", "sum", "output")
# Modes whose per-sample gradients dp-lint compares; ghost clipping keeps only their norms and is
# checked in hooks mode, which collects the same activations and backprops.
CHECKED_MODES = ("hooks", "functorch", "ew")
HOOKS_FALLBACK_MODES = ("ghost", "ghost_fsdp", "no_op")

_TARGET_RE = re.compile(r"^(?P<where>.+):(?P<name>[A-Za-z_][A-Za-z0-9_]*)$")


class VerifyUsageError(Exception):
    """A mistake in what was asked (a bad target, a bad input spec): exit status 2."""


@dataclass(frozen=True)
class ModelRef:
    """Something the child imports: `attr` of the module `module` (found at `file`, importable
    with `root` first on sys.path)."""

    label: str  # as shown: "examples/simsiam/model.py:SimSiam" or "pkg.mod:build"
    attr: str
    module: str  # dotted import name
    file: str | None = None  # absolute path of the module's file; None: imported from sys.path
    root: str | None = None  # folder put first on sys.path

    def key(self) -> tuple[str, str]:
        return (os.path.realpath(self.file) if self.file else self.module, self.attr)

    def to_json(self) -> dict:
        return {"label": self.label, "attr": self.attr, "module": self.module, "file": self.file, "root": self.root}


@dataclass
class VerifyTarget:
    """One model to verify, fully described for the child (`to_request`)."""

    model: ModelRef
    args: list = field(default_factory=list)
    kwargs: dict = field(default_factory=dict)
    inputs: list[str] | None = None
    inputs_inferred: bool = False
    loss: ModelRef | str | None = None  # a function `loss(output) -> scalar`, or a built-in name
    batch_first: bool = DEFAULT_BATCH_FIRST
    loss_reduction: str = DEFAULT_LOSS_REDUCTION
    grad_sample_mode: str = DEFAULT_GRAD_SAMPLE_MODE
    validator_fix: bool = False  # the model goes through ModuleValidator.fix before the engine
    validate: bool = True  # make_private runs ModuleValidator.validate; a bare GradSampleModule does not
    origin: str = "command line"  # "engine call train.py:12", "configuration pyproject.toml", ...
    notes: list[str] = field(default_factory=list)
    problem: str | None = None  # set: the verdict is cannot-build without running anything
    config_hint: str | None = None  # TOML that would fix `problem`
    class_qualname: str | None = None  # the project class the model is (for findings)
    config_model: str | None = None  # `model = "..."` as a configuration table would write it

    @property
    def label(self) -> str:
        return self.model.label

    def settings(self) -> dict:
        return {
            "batch_first": self.batch_first,
            "loss_reduction": self.loss_reduction,
            "grad_sample_mode": self.grad_sample_mode,
            "validator_fix": self.validator_fix,
        }

    def to_request(self) -> dict:
        return {
            "label": self.label,
            "model": self.model.to_json(),
            "args": list(self.args),
            "kwargs": dict(self.kwargs),
            "inputs": list(self.inputs or []),
            "loss": self.loss.to_json() if isinstance(self.loss, ModelRef) else self.loss,
            "batch_first": self.batch_first,
            "loss_reduction": self.loss_reduction,
            "grad_sample_mode": self.grad_sample_mode if self.grad_sample_mode in CHECKED_MODES else "hooks",
            "validator_fix": self.validator_fix,
            "validate": self.validate,
        }

    def moved(self, old_root: str | os.PathLike, new_root: str | os.PathLike) -> VerifyTarget:
        """The same target (settings, inputs, arguments) with its files under `new_root` instead
        of `old_root`: a fixed copy of the project is verified exactly like the original."""
        def move(ref: ModelRef) -> ModelRef:
            return replace(ref, file=_rebase(ref.file, old_root, new_root), root=_rebase(ref.root, old_root, new_root))

        loss = move(self.loss) if isinstance(self.loss, ModelRef) else self.loss
        return replace(self, model=move(self.model), loss=loss, notes=list(self.notes))

    def identity(self) -> tuple:
        return (self.model.key(), repr(self.args), repr(sorted(self.kwargs.items())), repr(self.inputs),
                self.loss.key() if isinstance(self.loss, ModelRef) else self.loss, self.batch_first, self.loss_reduction,
                self.grad_sample_mode, self.validator_fix, self.validate)


def _rebase(path: str | None, old_root, new_root) -> str | None:
    if path is None:
        return None
    try:
        relative = Path(os.path.abspath(path)).relative_to(Path(os.path.abspath(old_root)))
    except ValueError:
        return path
    return str(Path(os.path.abspath(new_root)) / relative)


# --------------------------------------------------------------------------- target syntax


def looks_like_target(text: str) -> bool:
    """`a/b.py:Name` or `pkg.mod:Name` (a path such as `C:\\x` or `src/` is not a target)."""
    match = _TARGET_RE.match(text)
    if not match:
        return False
    where = match["where"]
    return where.endswith(".py") or bool(re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*", where))


def parse_ref(text: str, base: Path, project=None, display_base: Path | None = None) -> ModelRef:
    """A target string, relative to `base` for file paths, resolved to something importable."""
    match = _TARGET_RE.match(text.strip())
    if not match or not looks_like_target(text.strip()):
        raise VerifyUsageError(
            f"bad target {text!r}: expected `path/to/file.py:ClassName` or `package.module:factory`"
        )
    where, attr = match["where"], match["name"]
    if where.endswith(".py"):
        path = Path(where)
        if not path.is_absolute():
            path = base / path
        path = Path(os.path.abspath(path))
        if not path.is_file():
            raise VerifyUsageError(f"target {text!r}: file {path} does not exist")
        module, root = module_and_root(path)
        return ModelRef(f"{_display(path, display_base or base)}:{attr}", attr, module, str(path), str(root))
    info = _module_info(project, where) if project is not None else None
    if info is not None:
        return ModelRef(f"{where}:{attr}", attr, where, str(info.file.path), info.root)
    return ModelRef(f"{where}:{attr}", attr, where, None, str(base))


def module_and_root(path: Path) -> tuple[str, Path]:
    """The dotted name Python imports `path` as, and the folder that must be on sys.path."""
    name = module_name_for(path)
    steps = len(name.split(".")) + (1 if path.name == "__init__.py" else 0)
    root = path
    for _ in range(steps):
        root = root.parent
    return name, root


def _display(path: Path, base: Path) -> str:
    try:
        return Path(os.path.abspath(path)).relative_to(Path(os.path.abspath(base))).as_posix()
    except ValueError:
        return str(path)


def _module_info(project, dotted: str) -> ModuleInfo | None:
    found = [info for info in project.index.by_file.values() if info.file.module_name == dotted]
    return found[0] if found else None


# --------------------------------------------------------------------------- the project


def load_project(paths: Sequence[Path], config: Config | None = None):
    """Parse the Python files under `paths` (files that do not parse are skipped)."""
    sources = []
    for path in discover([str(p) for p in paths]):
        if is_notebook(path):
            continue  # `verify` imports models from files; a notebook is not importable
        try:
            sources.append(parse_source(path, module_name_for(path), path.read_bytes()))
        except (OSError, SourceError):
            continue
    return Project(sources, config)


def legacy_api_hint(project: Project) -> str | None:
    """Why no engine call was found when the project is written for Opacus 0.x: the first use of
    the 0.x API and what Opacus 1.x does with it; None when the project uses none."""
    uses = project.legacy_api_uses
    if not uses:
        return None
    first = min(uses, key=lambda use: (use.file.path, _line(use.file, use.node)))
    where = f"{os.path.relpath(first.file.path)}:{_line(first.file, first.node)}"
    more = f" and {len(uses) - 1} more" if len(uses) > 1 else ""
    return (f"the project uses the Opacus 0.x API (`{first.written}` at {where}{more}), which Opacus 1.x "
            f"cannot run ({first.error}); port it to `PrivacyEngine().make_private(...)` "
            "(`dp-lint check` reports it as DPL212)")


def _line(file, node: cst.CSTNode) -> int:
    return file.span(node)[0].row


# --------------------------------------------------------------------------- entry points


@dataclass(frozen=True)
class EntryPoint:
    """A training entry point that `verify` can run in capture mode: a script with an
    `if __name__ == "__main__":` block that reaches an engine call (in the script itself, or in a
    project module it imports), or a top-level function that needs no argument and contains the
    engine call or calls, by name, a function of its module that does (`def main():`,
    `def train(steps=2):`) in a file without such a block."""

    command: tuple[str, ...]  # ("python", "train.py") or ("train.py:main",)
    script: str  # relative to the root; `train.py:main` for a function
    engine_files: tuple[str, ...]  # the files (relative to the root) of the engine calls it reaches


def discover_entry_points(root: Path, *, paths: Sequence[Path] = (), config: Config | None = None,
                          project: Project | None = None) -> list[EntryPoint]:
    """Entry points under `paths` (default: `root`) that reach an engine call, in path order.
    `project`: those paths already loaded (`load_project`), so that they are parsed once."""
    root = Path(os.path.abspath(root))
    project = project or load_project(list(paths) or [root], config)
    engine_files = {call.file.path for call in project.engine_calls}
    if not engine_files:
        return []
    engine_modules = {info.file.module_name: info.file.path for info in project.index.by_file.values()
                      if info.file.path in engine_files}
    found = []
    scripts_reaching: set[Path] = set()
    for info in project.index.by_file.values():
        if not _has_main_block(info.file.module):
            continue
        reached = {info.file.path} & engine_files
        for imported in info.imports.values():
            for module_name, path in engine_modules.items():
                if imported == module_name or imported.startswith(module_name + "."):
                    reached.add(path)
        if not reached:
            continue
        scripts_reaching.update(reached)
        script = _display(Path(info.file.path), root)
        found.append(EntryPoint(("python", script), script, tuple(sorted(_display(Path(p), root) for p in reached))))
    # Files whose engine calls no script reaches: a function of theirs that needs no argument and
    # contains an engine call or calls (through project functions and methods) one that does.
    reach = _EngineReach(project)
    for info in project.index.by_file.values():
        path = info.file.path
        if path not in engine_files or path in scripts_reaching or _has_main_block(info.file.module):
            continue
        for name, function in info.functions.items():
            if _needs_no_argument(function.node) and reach.reaches(function, depth=4, seen=set()):
                display = _display(Path(path), root)
                label = f"{display}:{name}"
                found.append(EntryPoint((label,), label, (display,)))
                break  # one entry per file: its first such function, in source order
    return sorted(found, key=lambda e: e.script)


class _EngineReach:
    """Which project functions reach an engine call when called: the functions and methods whose
    bodies hold one, and those that call them (through project functions, constructors and methods:
    `Trainer().fit(...)`, `trainer = Trainer(); trainer.fit()`, `self.fit()`; a method called on a
    receiver of unknown class when only one project class defines a method of that name)."""

    def __init__(self, project: Project) -> None:
        calls_by_file: dict[object, list[cst.Call]] = {}
        for call in project.engine_calls:
            calls_by_file.setdefault(call.file.path, []).append(call.node)
        self.holders: set[int] = set()
        self.methods_by_name: dict[str, list[FunctionInfo]] = {}
        for info in project.index.by_file.values():
            methods = [m for c in info.classes.values() for m in c.methods.values()]
            for method in methods:
                self.methods_by_name.setdefault(method.name, []).append(method)
            calls = calls_by_file.get(info.file.path)
            for function in [*info.functions.values(), *methods] if calls else ():
                if any(contains(function.node, node) for node in calls or ()):
                    self.holders.add(id(function.node))

    def reaches(self, function: FunctionInfo, depth: int, seen: set[int]) -> bool:
        """At most `depth` calls deep."""
        if id(function.node) in self.holders:
            return True
        if depth == 0 or id(function.node) in seen:
            return False
        seen.add(id(function.node))
        module, index = function.module, function.module.index
        owner = index.lookup_class(function.qualname.rsplit(".", 1)[0])  # a method's class, else None
        instances: dict[str, ClassInfo] = {}  # `name = ProjectClass(...)` in this function
        for name, values in assignments_in(function.node.body.body).items():
            for value in values:
                cls = _constructed_class(value, module)
                if cls is not None:
                    instances[name] = cls
        return any(
            self.reaches(callee, depth - 1, seen)
            for call in calls_in(function.node)
            for callee in self._callees(call, module, owner, instances)
        )

    def _callees(self, call: cst.Call, module: ModuleInfo, owner: ClassInfo | None,
                 instances: dict[str, ClassInfo]) -> list[FunctionInfo]:
        index = module.index
        func = call.func
        if isinstance(func, cst.Attribute):
            receiver: ClassInfo | None = None
            known = False
            if isinstance(func.value, cst.Call):
                receiver = _constructed_class(func.value, module)
                known = receiver is not None
            elif isinstance(func.value, cst.Name):
                receiver = owner if func.value.value == "self" else instances.get(func.value.value)
                known = receiver is not None or module.resolve(func.value.value) != func.value.value
            if receiver is not None:
                found = index.find_method(receiver, func.attr.value)
                return [found[1]] if found else []
            candidates = self.methods_by_name.get(func.attr.value, [])
            if not known and len({id(m.node) for m in candidates}) == 1:
                return candidates[:1]
        name = dotted_name(func)
        if not name:
            return []
        qualname = module.resolve(name)
        function = index.lookup_function(qualname)
        if function is not None:
            return [function]
        cls = index.lookup_class(qualname)
        if cls is not None:
            found = index.find_method(cls, "__init__")
            return [found[1]] if found else []
        return []


def _constructed_class(expr: cst.BaseExpression, module: ModuleInfo) -> ClassInfo | None:
    if not isinstance(expr, cst.Call):
        return None
    name = dotted_name(expr.func)
    return module.index.lookup_class(module.resolve(name)) if name else None


def _needs_no_argument(function: cst.FunctionDef) -> bool:
    params = function.params
    required = [p for p in [*params.posonly_params, *params.params, *params.kwonly_params] if p.default is None]
    return not required and function.asynchronous is None  # *args and **kwargs may stay empty


def _has_main_block(module: cst.Module) -> bool:
    for statement in module.body:
        if isinstance(statement, cst.If) and isinstance(statement.test, cst.Comparison):
            left = statement.test.left
            sides = [left, *(c.comparator for c in statement.test.comparisons)]
            names = {s.value for s in sides if isinstance(s, cst.Name)}
            strings = {s.evaluated_value for s in sides if isinstance(s, cst.SimpleString)}
            if "__name__" in names and "__main__" in strings:
                return True
    return False


# --------------------------------------------------------------------------- discovering targets


def discover_targets(
    root: Path,
    targets: Sequence[str] = (),
    *,
    paths: Sequence[Path] = (),
    config: Config | None = None,
    project: Project | None = None,
) -> list[VerifyTarget]:
    """The models to verify, statically described.

    `root` is the project folder: relative target paths and labels are relative to it, and it
    is the project when neither `paths` nor file targets say otherwise. `targets` are target
    strings; without them, every engine-wrapped model plus the configured targets. `config`
    supplies `[[tool.dp-lint.verify]]` (its model paths are relative to the configuration's
    folder) and `assume-batch-first`. `project`: `paths` (default: `root`) already loaded, used
    when the targets add no file outside them.

    Raises VerifyUsageError for a malformed target, a missing file, or a bad configured value.
    """
    root = Path(os.path.abspath(root))
    config = config or Config()
    config_base = config.root or root
    entries = list([e for e in getattr(config, "verify_targets", ()) or () if "model" in e])

    explicit = [t for t in targets]
    file_roots = []
    pre_refs = []
    for text in explicit:
        ref = parse_ref(text, root)
        pre_refs.append(ref)
    for entry in entries:
        model = entry.get("model")
        if isinstance(model, str) and looks_like_target(model) and model.split(":")[0].endswith(".py"):
            try:
                file_roots.append(Path(module_and_root(_abs(model.rsplit(":", 1)[0], config_base))[1]))
            except (OSError, ValueError):
                pass
    file_roots += [Path(r.root) for r in pre_refs if r.file is not None and r.root]
    project_paths = [Path(p) for p in paths] or ([root] if not explicit else [])
    project_paths += [r for r in file_roots if not any(_below(r, p) for p in project_paths)]
    project_paths += [Path(r.file) for r in pre_refs if r.file is not None]
    if not project_paths:
        project_paths = [root]
    loaded = [Path(p) for p in paths] or [root]
    if project is None or [os.path.abspath(p) for p in _unique(project_paths)] != [os.path.abspath(p) for p in loaded]:
        project = load_project(_unique(project_paths), config)
    builder = _Builder(project, root, config, config_base)

    configured = [builder.configured(entry, number) for number, entry in enumerate(entries, start=1)]
    if explicit:
        result = []
        for text in explicit:
            ref = parse_ref(text, root, project)
            matching = [c for c in configured if c[0].key() == ref.key()]
            if matching:
                result.extend(builder.build(replace(matching[0][0], label=ref.label), matching[0][1]))
            else:
                result.extend(builder.build(ref, {}))
    else:
        result = builder.engine_targets(configured)
        for ref, entry in configured:
            result.extend(builder.build(ref, entry))
    return _deduplicate(result)


def _abs(text: str, base: Path) -> Path:
    path = Path(text)
    return Path(os.path.abspath(path if path.is_absolute() else base / path))


def _below(path: Path, folder: Path) -> bool:
    try:
        Path(os.path.abspath(path)).relative_to(Path(os.path.abspath(folder)))
        return True
    except ValueError:
        return False


def _unique(paths: list[Path]) -> list[Path]:
    seen, unique = set(), []
    for path in paths:
        key = os.path.abspath(path)
        if key not in seen:
            seen.add(key)
            unique.append(path)
    return unique


def _deduplicate(targets: list[VerifyTarget]) -> list[VerifyTarget]:
    seen: dict[tuple, VerifyTarget] = {}
    for target in targets:
        key = target.identity()
        if key in seen:
            if target.origin not in seen[key].origin:
                seen[key].origin += f", {target.origin}"
            continue
        seen[key] = target
    return list(seen.values())


class _Builder:
    def __init__(self, project, root: Path, config: Config, config_base: Path):
        self.project = project
        self.root = root
        self.config = config
        self.config_base = config_base
        self.index = project.index
        self.by_file = {os.path.realpath(info.file.path): info for info in self.index.by_file.values()}

    # -- where targets come from ----------------------------------------------------

    def configured(self, entry: dict, number: int) -> tuple[ModelRef, dict]:
        where = self._entry_label(number)
        model = entry.get("model")
        if not isinstance(model, str):
            raise VerifyUsageError(f"{where}: `model` must be a string such as \"pkg.models:Net\"")
        try:
            ref = parse_ref(model, self.config_base, self.project, display_base=self.root)
        except VerifyUsageError as exc:
            raise VerifyUsageError(f"{where}: {exc}") from None
        entry = dict(entry)
        entry["_where"] = where
        return ref, entry

    def _entry_label(self, number: int) -> str:
        path = self.config.path
        return f"{path}: [[tool.dp-lint.verify]] number {number}" if path else f"[[tool.dp-lint.verify]] number {number}"

    def engine_targets(self, configured: list[tuple[ModelRef, dict]]) -> list[VerifyTarget]:
        """One target per engine call whose wrapped model class is resolved; a configured table
        for the same class supplies its values on top and is then not verified again."""
        targets = []
        for engine in self.project.engine_calls:
            cls = engine.wrapped
            if cls is None:
                continue
            ref = self.class_ref(cls)
            if any(r.key() == ref.key() for r, _ in configured):
                continue  # built from the configuration, with this engine's settings as defaults
            targets.extend(self.build(ref, {}, engines=[engine]))
        return targets

    def build(self, ref: ModelRef, entry: dict, engines=None) -> list[VerifyTarget]:
        """The target(s) for `ref`: one per engine call wrapping it (settings differ), else one."""
        symbol = self._symbol(ref)
        if symbol is None:
            info = self._info(ref)
            names = (info.classes, info.functions, info.assignments, info.imports) if info is not None else ()
            if info is not None and not any(ref.attr in table for table in names):
                where = entry.get("_where")
                raise VerifyUsageError(
                    f"{where + ': ' if where else ''}target {ref.label}: "
                    f"{_display(Path(info.file.path), self.root)} defines no `{ref.attr}`"
                )
        cls = symbol if isinstance(symbol, ClassInfo) else None
        if engines is None:
            engines = [e for e in self.project.engine_calls if cls is not None and e.wrapped is cls]
        if not engines:
            return [self._target(ref, entry, symbol, None)]
        return [self._target(ref, entry, symbol, engine) for engine in engines]

    # -- one target -----------------------------------------------------------------

    def _target(self, ref: ModelRef, entry: dict, symbol, engine) -> VerifyTarget:
        where = entry.get("_where")
        target = VerifyTarget(ref)
        target.config_model = self._config_label(ref)
        if isinstance(symbol, ClassInfo):
            target.class_qualname = symbol.qualname
        if where:
            target.origin = f"configuration ({self._config_name()})"
        if engine is not None:
            engine_origin = f"engine call {self._engine_label(engine)}"
            target.origin = f"{target.origin} + {engine_origin}" if where else engine_origin
            self._engine_settings(target, engine)
        else:
            target.batch_first = self.config.assume_batch_first
            if not where:
                target.notes.append(
                    "no engine call wraps this model: Opacus' defaults (batch_first from assume-batch-first)"
                )
        self._configured_settings(target, entry, where)
        if target.grad_sample_mode in HOOKS_FALLBACK_MODES:
            target.notes.append(
                f"grad_sample_mode={target.grad_sample_mode!r} keeps no per-sample gradients to compare: "
                "checked in hooks mode, which runs the same hooks"
            )
        elif target.grad_sample_mode not in CHECKED_MODES:
            raise VerifyUsageError(
                f"{where or ref.label}: unknown grad_sample_mode {target.grad_sample_mode!r} "
                f"(one of {', '.join(CHECKED_MODES + HOOKS_FALLBACK_MODES)})"
            )

        # Constructor arguments: the configuration's, else the engine's constructor call.
        missing: list[str] = []
        if "args" in entry or "kwargs" in entry:
            target.args = list(entry.get("args", []))
            target.kwargs = dict(entry.get("kwargs", {}))
            missing = self._unbound_required(symbol, target.args, target.kwargs)
        elif engine is not None and engine.wrapped_call is not None and isinstance(symbol, ClassInfo):
            missing = self._engine_arguments(target, symbol, engine)
        else:
            missing = self._unbound_required(symbol, [], {})

        # Inputs: the configuration's, else inferred.
        inferred: InferredInputs | None = None
        if "inputs" in entry:
            target.inputs = self._checked_specs(entry["inputs"], where or ref.label)
        if "loss" in entry and entry["loss"] in BUILTIN_LOSSES:
            target.loss = None if entry["loss"] == "sum-of-squares" else entry["loss"]
        elif "loss" in entry:
            if not looks_like_target(entry["loss"]):
                raise VerifyUsageError(
                    f"{where}: `loss` must be {', '.join(repr(n) for n in BUILTIN_LOSSES)} or a function "
                    f"such as \"pkg.losses:my_loss\", got {entry['loss']!r}"
                )
            try:
                target.loss = parse_ref(entry["loss"], self.config_base, self.project, display_base=self.root)
            except VerifyUsageError as exc:
                raise VerifyUsageError(f"{where}: `loss`: {exc}") from None

        script = self._trains_at_import(ref)
        if script is not None:
            target.problem = (
                f"importing {self._where_module(ref)} would run its training code ({script}); guard the script "
                "with `if __name__ == \"__main__\":` or move the model to a module of its own"
            )
        elif symbol is None and target.inputs is None:
            target.problem = (
                f"dp-lint cannot find `{ref.attr}` in {self._where_module(ref)} among the checked files, so "
                "it cannot infer its inputs"
            )
        elif missing:
            what = "factory" if isinstance(symbol, FunctionInfo) else "constructor"
            target.problem = (
                f"the {what} of `{ref.attr}` needs {', '.join(f'`{m}`' for m in missing)}, and "
                f"{'the engine call passes no literal for it' if engine is not None else 'no value is configured'}"
            )
        if target.inputs is None and symbol is not None:
            inferred = self._infer(symbol, target)
            if inferred is not None and inferred.complete:
                target.inputs = [s for s in inferred.specs if s is not None]
                target.inputs_inferred = True
                target.notes.extend(inferred.notes)
            elif target.problem is None:
                reason = inferred.failure() if inferred is not None else "dp-lint cannot tell which model class it builds"
                target.problem = f"dp-lint cannot infer the inputs of forward(): {reason}"
        if target.problem is not None and script is None:
            target.config_hint = self._hint(target, inferred, missing)
        return target

    def _engine_label(self, engine) -> str:
        start, _ = engine.file.span(engine.node)
        return f"{_display(Path(engine.file.path), self.root)}:{start.row}"

    def _trains_at_import(self, ref: ModelRef) -> str | None:
        """`make_private(...)` at a line of the module that runs at import (not in a function or
        class, not under `if __name__ == "__main__":`), e.g. "make_private at train.py:40"."""
        info = self._info(ref)
        if info is None:
            return None
        calls = [e for e in self.project.engine_calls if e.file is info.file]
        if not calls:
            return None
        guarded = []
        for stmt in info.file.module.body:
            if isinstance(stmt, (cst.FunctionDef, cst.ClassDef)) or (isinstance(stmt, cst.If) and _is_main_guard(stmt.test)):
                guarded.append(info.file.span(stmt))
        for engine in calls:
            start, _ = info.file.span(engine.node)
            if not any(a <= start <= b for a, b in guarded):
                return f"{engine.kind.value} at {self._engine_label(engine)}"
        return None

    def _config_label(self, ref: ModelRef) -> str:
        """The target as `model = "..."` in the configuration (paths are relative to its folder)."""
        if ref.file:
            return f"{_display(Path(ref.file), self.config_base)}:{ref.attr}"
        return ref.label

    def _config_name(self) -> str:
        path = self.config.path
        return _display(path, self.root) if path else "pyproject.toml"

    def _where_module(self, ref: ModelRef) -> str:
        return _display(Path(ref.file), self.root) if ref.file else f"module `{ref.module}`"

    def _engine_settings(self, target: VerifyTarget, engine) -> None:
        label = self._engine_label(engine)
        for name, value, default, kinds in (
            ("batch_first", engine.batch_first, DEFAULT_BATCH_FIRST, (bool,)),
            ("loss_reduction", getattr(engine, "loss_reduction", DEFAULT_LOSS_REDUCTION), DEFAULT_LOSS_REDUCTION, (str,)),
            ("grad_sample_mode", getattr(engine, "grad_sample_mode", DEFAULT_GRAD_SAMPLE_MODE), DEFAULT_GRAD_SAMPLE_MODE, (str,)),
        ):
            if isinstance(value, Enum):
                value = value.value  # GradSampleMode / LossReduction: the target holds the text
            if value is UNKNOWN or not isinstance(value, kinds):
                target.notes.append(
                    f"the engine call at {label} sets {name} to a value dp-lint cannot read: "
                    f"{name}={default!r} is used (configure it in [[tool.dp-lint.verify]] if that is wrong)"
                )
                value = default
            setattr(target, name, value)
        target.validator_fix = bool(engine.validator_fixed)
        target.validate = engine.kind.makes_private
        if target.loss_reduction not in LOSS_REDUCTIONS:
            target.notes.append(f"unknown loss_reduction {target.loss_reduction!r}: 'mean' is used")
            target.loss_reduction = DEFAULT_LOSS_REDUCTION

    def _configured_settings(self, target: VerifyTarget, entry: dict, where) -> None:
        for name in ("batch_first", "loss_reduction", "grad_sample_mode"):
            if name in entry:
                setattr(target, name, entry[name])
        if target.loss_reduction not in LOSS_REDUCTIONS:
            raise VerifyUsageError(f"{where}: `loss_reduction` must be \"mean\" or \"sum\", got {target.loss_reduction!r}")

    def _checked_specs(self, specs, where: str) -> list[str]:
        if not isinstance(specs, list) or not all(isinstance(s, str) for s in specs):
            raise VerifyUsageError(f"{where}: `inputs` must be an array of strings such as \"float[B, 16]\"")
        for spec in specs:
            try:
                parse_input_spec(spec)
            except ValueError as exc:
                raise VerifyUsageError(f"{where}: `inputs`: {exc}") from None
        return list(specs)

    # -- static facts -----------------------------------------------------------------

    def class_ref(self, cls: ClassInfo) -> ModelRef:
        path = Path(os.path.abspath(cls.file.path))
        module, root = module_and_root(path)
        return ModelRef(f"{_display(path, self.root)}:{cls.name}", cls.name, module, str(path), str(root))

    def _info(self, ref: ModelRef) -> ModuleInfo | None:
        return self.by_file.get(os.path.realpath(ref.file)) if ref.file else _module_info(self.project, ref.module)

    def _symbol(self, ref: ModelRef) -> ClassInfo | FunctionInfo | None:
        info = self._info(ref)
        if info is None:
            return None
        qualname = f"{info.name}.{ref.attr}"
        cls = self.index.lookup_class(qualname)
        if cls is not None and self.project.modules.is_module_class(cls):
            return cls
        function = self.index.lookup_function(qualname)
        return function

    def _init_params(self, cls: ClassInfo) -> list[cst.Param] | None:
        """__init__'s parameters after self, or None when it is not in the project."""
        found = self.index.find_method(cls, "__init__")
        if found is None:
            external = [b for b in self.index.external_bases(cls) if not b.startswith(("torch.nn", "pytorch_lightning", "lightning"))]
            return None if external else []
        params = found[1].node.params
        return [*params.posonly_params, *params.params][1:] + list(params.kwonly_params)

    def _signature(self, symbol) -> tuple[list[cst.Param], list[cst.Param], bool] | None:
        """(positional params, keyword-only params, takes **kwargs) of a constructor or factory."""
        if isinstance(symbol, ClassInfo):
            found = self.index.find_method(symbol, "__init__")
            if found is None:
                return None if self._init_params(symbol) is None else ([], [], False)
            params = found[1].node.params
            positional = [*params.posonly_params, *params.params][1:]
        elif isinstance(symbol, FunctionInfo):
            params = symbol.node.params
            positional = [*params.posonly_params, *params.params]
        else:
            return None
        return positional, list(params.kwonly_params), isinstance(params.star_kwarg, cst.Param)

    def _unbound_required(self, symbol, args: list, kwargs: dict) -> list[str]:
        signature = self._signature(symbol)
        if signature is None:
            return []
        positional, kwonly, _ = signature
        missing = []
        for i, p in enumerate(positional):
            if p.default is None and i >= len(args) and p.name.value not in kwargs:
                missing.append(p.name.value)
        missing += [p.name.value for p in kwonly if p.default is None and p.name.value not in kwargs]
        return missing

    def _engine_arguments(self, target: VerifyTarget, cls: ClassInfo, engine) -> list[str]:
        """Literal constructor arguments of the engine's model construction; the others are
        left to the constructor's defaults (with a note) or reported missing."""
        call, module = engine.wrapped_call, engine.wrapped_module
        signature = self._signature(cls)
        code = cst.Module(body=[]).code_for_node
        star = any(a.star for a in call.args)
        positional_args = [a for a in call.args if a.keyword is None and not a.star]
        values: dict[str, object] = {}
        exprs: dict[str, str] = {}
        extra_positional: list = []
        names = [p.name.value for p in signature[0]] if signature else []
        for i, arg in enumerate(positional_args):
            value = _literal_value(arg.value, module)
            if i < len(names):
                values[names[i]] = value
                exprs[names[i]] = code(arg.value)
            else:
                extra_positional.append(value)
        for arg in call.args:
            if arg.keyword is not None:
                values[arg.keyword.value] = _literal_value(arg.value, module)
                exprs[arg.keyword.value] = code(arg.value)
        if signature is None:
            # Unknown constructor signature: pass what was written, all literal or nothing.
            if star or any(v is UNKNOWN for v in values.values()) or any(v is UNKNOWN for v in extra_positional):
                target.notes.append("the model's constructor arguments are not all literals: it is built without arguments")
                return []
            target.args = [values[n] for n in names[: len(positional_args)]] + extra_positional
            target.kwargs = {k: v for k, v in values.items() if k not in names}
            return []
        positional, kwonly, _ = signature
        defaults = {p.name.value: p.default is not None for p in positional + kwonly}
        missing = []
        for name, value in values.items():
            if value is UNKNOWN:
                if defaults.get(name, True):
                    target.notes.append(
                        f"`{name}={exprs[name]}` at {self._engine_label(engine)} is not a literal: the constructor's default is used"
                    )
                else:
                    missing.append(name)
                continue
            target.kwargs[name] = value
        if extra_positional:
            named = names[: len(positional_args) - len(extra_positional)]
            if any(v is UNKNOWN for v in extra_positional) or any(n not in target.kwargs for n in named):
                target.notes.append("extra positional constructor arguments (*args) are not all literals: left out")
            else:
                target.args = [target.kwargs.pop(n) for n in named] + extra_positional
        if star:
            target.notes.append(
                f"the model is built with *args/**kwargs at {self._engine_label(engine)}: the constructor's defaults are used"
            )
        satisfied = set(target.kwargs) | set(names[: len(target.args)])
        for p in positional + kwonly:
            name = p.name.value
            if p.default is None and name not in satisfied and name not in missing:
                missing.append(name)
        return missing

    def _infer(self, symbol, target: VerifyTarget) -> InferredInputs | None:
        tree = self.project.layer_tree
        try:
            if isinstance(symbol, ClassInfo):
                call = _constructor_call(symbol.name, target.args, target.kwargs)
                instance = tree.root(symbol, call, symbol.module)
            else:
                finder = EngineFinder(self.index, self.project.modules, symbol.module)
                built = finder.resolve_factory(symbol, 0)
                if built is None:
                    return None
                instance = tree.root(built.cls, built.call, built.module)
            return InputInference(self.project, instance, target.batch_first).infer()
        except (Exception, RecursionError) as exc:
            return InferredInputs([], [], [], problem=f"dp-lint failed while reading the model ({type(exc).__name__}: {exc})")

    # -- the configuration that would fix a cannot-build -----------------------------------

    def _hint(self, target: VerifyTarget, inferred: InferredInputs | None, missing: list[str]) -> str:
        lines = ["[[tool.dp-lint.verify]]", f"model = {toml_value(target.config_model or target.label)}"]
        if target.args:
            lines.append(f"args = {toml_value(target.args)}")
        kwargs = dict(target.kwargs)
        if kwargs or missing:
            items = [f"{k} = {toml_value(v)}" for k, v in kwargs.items()] + [f"{m} = ..." for m in missing if m not in kwargs]
            lines.append("kwargs = { " + ", ".join(items) + " }")
        if target.inputs is not None:
            lines.append(f"inputs = {toml_value(target.inputs)}")
        elif inferred is not None and inferred.names:
            specs = [s if s is not None else "float[B, ...]" for s in inferred.specs]
            comment = ", ".join(f"{n}" for n in inferred.names)
            lines.append(f"inputs = {toml_value(specs)}  # one per forward() argument: {comment}")
        else:
            lines.append('inputs = ["float[B, ...]"]  # one per forward() argument')
        return "\n".join(lines)


def _is_main_guard(test) -> bool:
    """`__name__ == "__main__"` (either way round)."""
    if not isinstance(test, cst.Comparison) or len(test.comparisons) != 1:
        return False
    left, right = test.left, test.comparisons[0].comparator
    names = {dotted_name(e) for e in (left, right)}
    strings = {e.evaluated_value for e in (left, right) if isinstance(e, cst.SimpleString)}
    return "__name__" in names and "__main__" in strings


def _constructor_call(name: str, args: list, kwargs: dict) -> cst.Call:
    parts = [python_literal(a) for a in args] + [f"{k}={python_literal(v)}" for k, v in kwargs.items()]
    return cast(cst.Call, cst.parse_expression(f"{name}({', '.join(parts)})"))  # `name(...)` parses as a Call


def _literal_value(expr: cst.BaseExpression, module: ModuleInfo | None) -> object:
    """A Python literal (lists, tuples and dicts of literals included, also as module-level
    constants), or UNKNOWN."""
    return ConstantEvaluator(module, sequences=True, dicts=True, container_constants=True, max_depth=100).evaluate(expr)


# --------------------------------------------------------------------------- findings -> models


def targets_for_findings(project, findings, root: Path, config: Config | None = None) -> list[list[VerifyTarget] | str]:
    """For each finding, the targets whose runtime verdict confirms it, or a string saying why
    there is none.

    A finding on a layer belongs to every engine-wrapped model whose layer tree holds that
    layer (through factories and constructor arguments); any other finding to the engine-wrapped
    models whose tree contains the class the finding is in, else to that class itself (when it
    is an nn.Module). `[[tool.dp-lint.verify]]` tables for those models supply their values.
    """
    root = Path(os.path.abspath(root))
    config = config or Config()
    builder = _Builder(project, root, config, config.root or root)
    configured = []
    for number, entry in enumerate([e for e in getattr(config, "verify_targets", ()) or () if "model" in e], start=1):
        try:
            configured.append(builder.configured(entry, number))
        except VerifyUsageError:
            continue
    cache: dict[tuple, list[VerifyTarget]] = {}

    def targets_of(cls: ClassInfo, engine) -> list[VerifyTarget]:
        key = (id(cls), id(engine))
        if key not in cache:
            ref = builder.class_ref(cls)
            entry = next((e for r, e in configured if r.key() == ref.key()), {})
            try:
                cache[key] = builder.build(ref, entry, engines=[engine] if engine is not None else [])
            except VerifyUsageError as exc:
                cache[key] = [VerifyTarget(ref, problem=str(exc))]
        return cache[key]

    layer_uses = list(project.layer_uses)
    trees = {}
    for engine in project.engine_calls:
        if engine.wrapped is not None:
            trees[id(engine)] = _classes_in_tree(project, engine.wrapped)
    by_path = {os.path.abspath(info.file.path): info for info in project.index.by_file.values()}

    result: list[list[VerifyTarget] | str] = []
    for finding in findings:
        path = os.path.abspath(finding.path)
        info = by_path.get(path)
        if is_notebook(path) and finding.code != "DPL000":
            result.append("findings in notebooks are not verified (a notebook's models cannot be imported)")
            continue
        if info is None or finding.code == "DPL000":
            result.append("the finding is not in a parsed model file")
            continue
        location = finding.location
        found: list[VerifyTarget] = []
        for layer in layer_uses:
            use, model = layer.use, layer.model
            if use.call is None or use.module is None or os.path.abspath(use.module.file.path) != path:
                continue
            if _contains(use.module.file, use.call, location):
                found.extend(targets_of(model.instance.cls, model.engine))
        if not found:
            cls = next((c for c in info.classes.values() if _contains(info.file, c.node, location)), None)
            if cls is not None:
                for engine in project.engine_calls:
                    if engine.wrapped is not None and cls in trees.get(id(engine), ()):
                        found.extend(targets_of(engine.wrapped, engine))
                if not found and project.modules.is_module_class(cls):
                    found.extend(targets_of(cls, None))
        if not found:
            result.append("the finding is not inside a model dp-lint can build")
            continue
        result.append(_deduplicate(found))
    return result


def _contains(source, node, location) -> bool:
    try:
        start, end = source.span(node)
    except (KeyError, Exception):
        return False
    return (start.row, start.column) <= (location.row, location.column) <= (end.row, end.column)


def _classes_in_tree(project, cls: ClassInfo) -> set:
    """Project classes that are part of a model of class `cls` (its bases, its submodules')."""
    seen: set = set()
    stack = [cls]

    def kinds(kind):
        if kind.project_class is not None:
            stack.append(kind.project_class)
        for element in kind.elements:
            kinds(element)

    while stack:
        current = stack.pop()
        for c in project.index.mro(current):
            if c in seen:
                continue
            seen.add(c)
            try:
                model = project.modules.model(c)
            except Exception:
                continue
            for sub in model.submodules.values():
                kinds(sub.kind)
    return seen

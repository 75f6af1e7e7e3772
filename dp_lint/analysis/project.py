"""The project: every parsed file, the shared index, and analyses cached for all rules."""

from __future__ import annotations

import os
import re
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property, partial
from typing import TypeVar

import libcst as cst

from dp_lint.analysis.engine_calls import EngineCall, GradSampleMode, find_engine_calls
from dp_lint.analysis.gradient_flow import FlowResult, ForwardFlow
from dp_lint.analysis.index import ClassInfo, ProjectIndex
from dp_lint.analysis.layers import Instance, LayerTree, LayerUse
from dp_lint.analysis.legacy_api import LegacyUse, find_legacy_api_uses
from dp_lint.analysis.models import ModuleKind, ModuleModels
from dp_lint.analysis.optimizers import not_optimized, optimized_attributes
from dp_lint.analysis.training import TrainingSetup, find_training_setups
from dp_lint.analysis.values import UNKNOWN, Unknown
from dp_lint.config.opacus_version import OpacusVersion, project_folders, resolve_opacus_version
from dp_lint.config.settings import Config
from dp_lint.core.failures import AnalysisFailure
from dp_lint.core.findings import Confidence
from dp_lint.files.source import SourceFile
from dp_lint.files.syntax import calls_in, contains, dotted_name

_T = TypeVar("_T")

# Methods whose call on a submodule gives it no gradient (`model.teacher.requires_grad_(False)`).
_NOT_GRADIENT_USES = ("requires_grad_", "eval", "train", "load_state_dict", "state_dict", "zero_grad", "update_parameters")


def failure_reason(exc: BaseException) -> str:
    """`Type: message` of an exception an analysis failed with (and its traceback with DP_LINT_DEBUG=1)."""
    reason = f"{type(exc).__name__}: {exc}"
    if os.environ.get("DP_LINT_DEBUG") == "1":
        reason += "\n" + "".join(traceback.format_exception(exc))
    return reason


@dataclass(frozen=True)
class PrivateModel:
    """A model dp-lint checks against an engine setting.

    `engine` is the engine call wrapping it; None when the project has no engine call
    (then the configured `assume-batch-first` stands in) or when the engine's wrapped
    model could not be resolved (then `unresolved_engines` lists those calls).
    """

    instance: Instance
    engine: EngineCall | None
    unresolved_engines: tuple[EngineCall, ...] = ()


@dataclass(frozen=True)
class ModelLayer:
    """A layer of a checked model (`Project.layer_uses`): the layer, and the model it is in."""

    use: LayerUse
    model: PrivateModel


class Project:
    """What a rule queries: the parsed files, the shared index, and analyses computed once
    for all rules (docs/dev/rule-api.md)."""

    def __init__(self, files: list[SourceFile], config: Config | None = None) -> None:
        self.files: list[SourceFile] = files
        self.config: Config = config or Config()
        self.index: ProjectIndex = ProjectIndex(files)
        self._flows: dict[ClassInfo, FlowResult] = {}
        # Analyses that failed on code dp-lint did not expect. The failing class, file or
        # rule yields no finding and everything else is still checked; the command reports
        # these as dp-lint bugs and exits 2.
        self.internal_errors: list[AnalysisFailure] = []

    def file_of(self, node: cst.CSTNode) -> SourceFile:
        """The file whose tree holds `node` (by identity). Results that know their file
        (`StopPoint.file`, `LayerUse.module.file`, ...) are cheaper: pass that instead."""
        for file in self.files:
            if contains(file.module, node):
                return file
        raise ValueError(f"{type(node).__name__} node is not part of any file of the project")

    def guarded(self, what: str, compute: Callable[[], _T], fallback: _T) -> _T:
        """`compute()`, or `fallback` when it fails on code dp-lint did not expect (the error
        is kept in `internal_errors`, and the command reports it as a dp-lint bug)."""
        try:
            return compute()
        except (Exception, RecursionError) as exc:
            self.internal_errors.append(AnalysisFailure(what, failure_reason(exc)))
            return fallback

    @cached_property
    def opacus_version(self) -> OpacusVersion:
        """The Opacus release the project runs on (setting, installed package, lock file or pin;
        see dp_lint.config.opacus_version), looked up once per check."""
        return resolve_opacus_version(
            self.config.opacus_version, project_folders(self.config.root, [f.path for f in self.files])
        )

    def engine_batch_first(self, model: PrivateModel) -> tuple[bool | Unknown, str, Confidence]:
        """(batch_first, text naming where it comes from, confidence) of the engine wrapping
        `model`: its engine call; the unresolved engine calls when they agree; else the
        configured `assume-batch-first`. batch_first is `UNKNOWN` when unresolved engines disagree or none
        has a known batch_first (an unknown one never vetoes the known ones)."""
        if model.engine is not None:
            engine = model.engine
            text = f"the engine call `{engine.kind.value}(batch_first={engine.batch_first})` at {engine.label()}"
            if engine.alternatives:
                return engine.batch_first, text + engine.alternative_text(), Confidence.MEDIUM
            return engine.batch_first, text, Confidence.HIGH
        if model.unresolved_engines:
            # An engine whose batch_first is unknown never vetoes the known ones.
            known = [e for e in model.unresolved_engines if e.batch_first is not UNKNOWN]
            values = {e.batch_first for e in known}
            if len(values) != 1:
                return UNKNOWN, "", Confidence.MEDIUM
            value = values.pop()
            labels = ", ".join(e.label() for e in known)
            return (value, f"the engine call at {labels} (batch_first={value}; its model was not resolved)",
                    Confidence.MEDIUM)
        value = self.config.assume_batch_first
        return value, (
            f"the engine's batch_first={value}, assumed because the project has no make_private/GradSampleModule "
            f"call ([tool.dp-lint] assume-batch-first)"
        ), Confidence.MEDIUM

    def engine_batch_first_brief(self, model: PrivateModel, here: SourceFile | None = None) -> str:
        """The engine's batch_first in a few words, for short messages (`engine_batch_first`'s
        text is the long form, for help texts): "True in make_private at train.py:12", "True at
        line 5" (engine calls whose model is not resolved), "True assumed for the engine" (no
        engine call). `here`: the file reported on (a call in it is named by its line)."""
        value, _, _ = self.engine_batch_first(model)
        if model.engine is not None:
            return f"{value} in {model.engine.kind.value} at {model.engine.short_label(here)}"
        known = [e for e in model.unresolved_engines if e.batch_first is not UNKNOWN]
        if known:
            return f"{value} at {', '.join(e.short_label(here) for e in known)}"
        return f"{value} assumed for the engine"

    @cached_property
    def modules(self) -> ModuleModels:
        """The nn.Module classes of the project, read from their `__init__`."""
        return ModuleModels(self.index)

    def module_classes(self) -> list[ClassInfo]:
        """nn.Module classes whose model could be read (the others are reported as internal errors)."""
        return [
            cls for cls in self.modules.module_classes()
            if self.guarded(f"class {cls.qualname}", partial(self.modules.model, cls), None) is not None
        ]

    @cached_property
    def private_classes(self) -> set[ClassInfo] | None:
        """The module classes that end up inside a model an engine call wraps, when every
        engine call's model is resolved; None (every class may be private) when the project
        has no engine call or one dp-lint could not resolve.

        A model that is never made private (a GAN's generator next to a private
        discriminator, a frozen feature extractor) cannot break Opacus' hooks: the
        stop-gradient rules skip it.
        """
        calls = self.engine_calls
        if not calls or any(e.wrapped is None for e in calls):
            return None
        found: set[ClassInfo] = set()
        for _, classes in self._classes_of_models:
            if classes is None:
                return None
            found.update(classes)
        return found

    @cached_property
    def _classes_of_models(self) -> list[tuple[PrivateModel, set[ClassInfo] | None]]:
        """Each checked model, with the module classes built inside it and their bases (None: not read)."""
        found: list[tuple[PrivateModel, set[ClassInfo] | None]] = []
        for model in self.private_models:
            classes = self.guarded(f"classes of {model.instance.cls.qualname}",
                                   partial(self.layer_tree.classes, model.instance), None)
            found.append((model, None if classes is None else {o for c in classes for o in self.index.mro(c)}))
        return found

    @cached_property
    def optimized_attributes(self) -> set[str] | None:
        """Submodule names the project's optimizers train (None: any parameter may be)."""
        return self.guarded("optimizers", lambda: optimized_attributes(self.index), None)

    def left_out_of_optimizers(self, cls: ClassInfo, attr: str) -> bool:
        """Is submodule `attr` of `cls` certainly not stepped by any optimizer? Then a
        missing per-sample gradient cannot make DPOptimizer.step() fail. (In ghost mode a parameter
        without a gradient fails anyway, at backward: see `wrapping_modes`.)"""
        return not_optimized(self.optimized_attributes, self.modules.model(cls).submodules, attr)

    def wrapping_modes(self, cls: ClassInfo) -> set[GradSampleMode | str | Unknown | None]:
        """The `grad_sample_mode` of each engine call whose model holds `cls` (UNKNOWN: not read; None: a model
        checked without a resolved engine call). Empty when no checked model holds it. Ghost clipping reads the
        per-sample norm of every trainable parameter of the model at backward, whatever the optimizer holds: a
        parameter left out of the optimizer without a gradient fails there (measured, opacus 1.6.0)."""
        return self._modes_by_class.get(cls, set())

    @cached_property
    def _modes_by_class(self) -> dict[ClassInfo, set[GradSampleMode | str | Unknown | None]]:
        found: dict[ClassInfo, set[GradSampleMode | str | Unknown | None]] = {}
        for model, classes in self._classes_of_models:
            mode = model.engine.grad_sample_mode if model.engine is not None else None
            for cls in classes or ():
                found.setdefault(cls, set()).add(mode)
        return found

    def may_be_private(self, cls: ClassInfo) -> bool:
        """May `cls` be part of a model an engine call wraps? (See `private_classes`.)"""
        scope = self.private_classes
        return scope is None or cls in scope

    def gradient_flow(self, cls: ClassInfo) -> FlowResult:
        """The forward gradient-flow analysis of `cls`, computed once and shared by rules."""
        if cls not in self._flows:
            self._flows[cls] = self.guarded(
                f"class {cls.qualname}", lambda: ForwardFlow(self.modules, cls).run(), FlowResult(cls, reason="internal error")
            )
        return self._flows[cls]

    def text_mentions_outside_self(self, attr: str) -> bool:
        """Is `<something other than self>.attr` written anywhere in the project?

        A cheap, conservative textual check used before claiming that a submodule is
        never used: a training script may call `model.head(features)` directly.
        """
        # Calls that give no gradient (a freeze, a mode switch, state copies) are not uses.
        pattern = re.compile(rf"(?<!\bself)\.{re.escape(attr)}\b(?!\s*\.\s*(?:{'|'.join(_NOT_GRADIENT_USES)})\s*\()")
        return any(pattern.search(f.text) for f in self.files)

    # -- engines and the models they wrap ---------------------------------------------

    @cached_property
    def engine_calls(self) -> list[EngineCall]:
        """Every `make_private*` call and `GradSampleModule*(...)` construction of the project."""
        return find_engine_calls(self.index, self.modules, self.guarded)

    @cached_property
    def legacy_api_uses(self) -> list[LegacyUse]:
        """Every use of the Opacus 0.x API (see dp_lint.analysis.legacy_api): a 0.x-shaped
        `PrivacyEngine(...)`, `attach`/`get_privacy_spent` on a 1.x engine, removed modules' imports."""
        return self.guarded("legacy API uses", lambda: find_legacy_api_uses(self.index), [])

    @cached_property
    def training_setups(self) -> list[TrainingSetup]:
        """The training script around each engine call (one per call, see dp_lint.analysis.training):
        its settings, arguments, returned names and the statements before and after it."""
        return self.guarded("training setups", lambda: find_training_setups(self.index, self.engine_calls, self.modules.values), [])

    @cached_property
    def calls_validator_fix(self) -> bool:
        """Does any code (not a comment) call `ModuleValidator.fix(...)`?"""
        return any(
            (dotted_name(call.func) or "").endswith("ModuleValidator.fix")
            for f in self.files
            if "ModuleValidator" in f.text
            for call in calls_in(f.module)
        )

    @cached_property
    def layer_tree(self) -> LayerTree:
        """Walks layer trees and resolves layer settings (`setting`, `batch_first`, `origin`)."""
        return LayerTree(self.modules)

    @cached_property
    def private_models(self) -> list[PrivateModel]:
        """The models whose layers are checked: those the engine calls wrap; every root
        module class when there is no engine call, or when an engine's model is unresolved."""
        resolved = [e for e in self.engine_calls if e.wrapped is not None]
        unresolved = tuple(e for e in self.engine_calls if e.wrapped is None)
        models = []
        covered: set[ClassInfo] = set()
        for e in resolved:
            if e.wrapped is not None:
                models.append(PrivateModel(self.layer_tree.root(e.wrapped, e.wrapped_call, e.wrapped_module), e))
                covered.add(e.wrapped)
        if not self.engine_calls or unresolved:
            self.module_classes()  # read every class once, with errors contained
            for cls in self._root_module_classes():
                if cls not in covered:
                    models.append(PrivateModel(self.layer_tree.root(cls), None, unresolved))
        return models

    @cached_property
    def layer_uses(self) -> list[ModelLayer]:
        """Every torch/opacus layer of every checked model (`private_models`), one entry per
        path through the tree, with the model it belongs to."""
        found: list[ModelLayer] = []
        for model in self.private_models:
            none: list[LayerUse] = []
            layers = self.guarded(f"layers of {model.instance.cls.qualname}", partial(self._layers_of, model.instance), none)
            found.extend(ModelLayer(use, model) for use in layers)
        return found

    def _layers_of(self, instance: Instance) -> list[LayerUse]:
        return list(self.layer_tree.layers(instance))

    def _root_module_classes(self) -> list[ClassInfo]:
        """Module classes that no other project class builds as a submodule, and that are
        not base classes of other project classes (their subclasses are checked instead)."""
        built: set[ClassInfo] = set()

        def note(kind: ModuleKind) -> None:
            if kind.project_class is not None:
                built.add(kind.project_class)
            for element in kind.elements:
                note(element)

        classes = self.module_classes()
        for cls in classes:
            for sub in self.modules.model(cls).submodules.values():
                note(sub.kind)
        return [c for c in classes if c not in built and not self.index.subclasses.get(c)]

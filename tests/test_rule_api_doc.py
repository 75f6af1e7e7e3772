"""docs/dev/rule-api.md mentions every public member of Project and of the result types rules use.

A member counts as mentioned when its name appears inside backticks in the section of its type
(the `Project` section for Project; `### `Type`` sections for the others). A new public field,
property or method fails this test until the page documents it.
"""

from __future__ import annotations

import ast
import dataclasses
import inspect
import re
import textwrap
from enum import Enum
from pathlib import Path

import pytest

from dp_lint.analysis.accumulation import ModelZeroGradOnly, OptimizerClearedLoop, SeveralBackward
from dp_lint.analysis.buffers import BufferedTrainableLayer
from dp_lint.analysis.engine_calls import EngineCall, EngineKind, GradSampleMode, LossReduction
from dp_lint.analysis.extra_forwards import UnconsumedForward
from dp_lint.analysis.ghost_reuse import GhostReusedLayer
from dp_lint.analysis.gradient_flow import CallSite, FlowResult, StopKind, StopPoint, Value
from dp_lint.analysis.horizon import HorizonExceeded
from dp_lint.analysis.index import ClassInfo, FunctionInfo, ModuleInfo, ProjectIndex
from dp_lint.analysis.layers import (
    Binding,
    Instance,
    KeywordOrigin,
    LayerTree,
    LayerUse,
    LiteralOrigin,
    ModuleArgument,
)
from dp_lint.analysis.legacy_api import LegacyKind, LegacyUse
from dp_lint.analysis.models import (
    AttributeValue,
    BufferRegistration,
    Condition,
    ModuleClass,
    ModuleKind,
    ModuleModels,
    Submodule,
    Tri,
)
from dp_lint.analysis.outside_optimizer import TrainableOutsideOptimizer
from dp_lint.analysis.project import ModelLayer, PrivateModel, Project
from dp_lint.analysis.replaced_modules import ReplacedAfterOptimizer
from dp_lint.analysis.requires_grad import RequiresGradChange
from dp_lint.analysis.training import (
    Criterion,
    CriterionKind,
    EvalModeTraining,
    FixAfterOptimizer,
    HooksAsModel,
    LossScaling,
    RepeatedEngineCall,
    TrainingSetup,
)
from dp_lint.analysis.validator import CollapsingNorm, RefusedLayer
from dp_lint.catalogue.rule import FixAvailability, Rule
from dp_lint.core.findings import Confidence

PAGE = Path(__file__).resolve().parent.parent / "docs" / "dev" / "rule-api.md"

DOCUMENTED = [
    PrivateModel, ModelLayer, RefusedLayer, EngineCall, EngineKind, GradSampleMode, LossReduction,
    FlowResult, CallSite, StopPoint, StopKind, Value, LayerTree, LayerUse, Instance, Binding,
    ModuleArgument, LiteralOrigin, KeywordOrigin, ModuleModels, ModuleClass, Submodule, ModuleKind,
    Condition, AttributeValue, Tri, ProjectIndex, ModuleInfo, ClassInfo, FunctionInfo,
    Rule, FixAvailability, Confidence, TrainingSetup, Criterion, CriterionKind, LossScaling, FixAfterOptimizer,
    RepeatedEngineCall, EvalModeTraining, UnconsumedForward, LegacyUse, LegacyKind,
    BufferRegistration, BufferedTrainableLayer, HooksAsModel,
    SeveralBackward, ModelZeroGradOnly, HorizonExceeded, RequiresGradChange, CollapsingNorm,
    ReplacedAfterOptimizer, GhostReusedLayer, TrainableOutsideOptimizer, OptimizerClearedLoop,
]


def public_members(cls: type) -> set[str]:
    """Fields, enum members, properties and methods a class defines, and the attributes its
    `__init__` assigns to `self`; names starting with `_` are private."""
    names: set[str] = set()
    if dataclasses.is_dataclass(cls):
        names |= {f.name for f in dataclasses.fields(cls)}
    if issubclass(cls, Enum):
        names |= set(cls.__members__)
    names |= set(getattr(cls, "_fields", ()))  # NamedTuple
    enum_internals = set(vars(Enum)) | {"_generate_next_value_"}
    for name, value in vars(cls).items():
        if name.startswith("_") or (issubclass(cls, Enum) and name in enum_internals):
            continue
        if callable(value) or isinstance(value, (property, staticmethod, classmethod)) or hasattr(value, "__get__"):
            names.add(name)
    for name in getattr(cls, "__annotations__", {}):
        if not name.startswith("_"):
            names.add(name)
    init = vars(cls).get("__init__")
    if init is not None and inspect.isfunction(init) and not dataclasses.is_dataclass(cls):
        tree = ast.parse(textwrap.dedent(inspect.getsource(init)))
        for node in ast.walk(tree):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, ast.AnnAssign) else []
            for target in targets:
                if (isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name)
                        and target.value.id == "self" and not target.attr.startswith("_")):
                    names.add(target.attr)
    return {n for n in names if not n.startswith("_")}


def section(text: str, heading: str) -> str:
    """The text under `heading` (a markdown heading line) up to the next heading of its level or above."""
    level = len(heading) - len(heading.lstrip("#"))
    lines = text.splitlines()
    start = lines.index(heading)
    end = next((i for i in range(start + 1, len(lines))
                if re.match(rf"^#{{1,{level}}} ", lines[i])), len(lines))
    return "\n".join(lines[start + 1:end])


def mentioned(name: str, text: str) -> bool:
    return any(re.search(rf"\b{re.escape(name)}\b", code) for code in re.findall(r"`([^`]+)`", text))


def test_every_public_member_of_project_is_documented():
    text = section(PAGE.read_text(), "## `Project`")
    missing = sorted(n for n in public_members(Project) if not mentioned(n, text))
    assert not missing, f"docs/dev/rule-api.md does not document Project.{', Project.'.join(missing)}"


@pytest.mark.parametrize("cls", DOCUMENTED, ids=lambda cls: cls.__name__)
def test_every_public_member_of_a_result_type_is_documented(cls):
    page = PAGE.read_text()
    heading = f"### `{cls.__name__}`"
    assert heading in page.splitlines(), f"docs/dev/rule-api.md has no section {heading}"
    text = section(page, heading)
    missing = sorted(n for n in public_members(cls) if not mentioned(n, text))
    assert not missing, f"docs/dev/rule-api.md, section {cls.__name__}, does not mention: {', '.join(missing)}"


def test_the_page_names_the_unknown_value_and_the_fix_helpers():
    page = PAGE.read_text()
    for name in ("UNKNOWN", "Unknown", "make_fix", "replace_nodes", "FixUnavailable", "report"):
        assert mentioned(name, page), name


def test_the_member_lists_are_not_empty():
    # Guards the collector itself: a change that made it find nothing would pass vacuously.
    assert {"files", "config", "index", "gradient_flow", "layer_uses", "file_of"} <= public_members(Project)
    assert {"kind", "batch_first", "label"} <= public_members(EngineCall)
    assert {"METHOD", "HELPER"} <= public_members(StopKind)
    assert {"test", "outcome"} <= public_members(Condition)

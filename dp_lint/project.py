"""The project: every parsed file, the shared index, and analyses cached for all rules."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path

from dp_lint.gradflow import FlowResult, ForwardFlow
from dp_lint.index import ClassInfo, ProjectIndex
from dp_lint.modules import ModuleModels, collect_external_freezes
from dp_lint.source import SourceFile


def module_name_for(path: Path) -> str:
    from dp_lint.discovery import module_name_for as impl

    return impl(path)


class Project:
    def __init__(self, files: list[SourceFile]):
        self.files = files
        self.index = ProjectIndex(files)
        self._flows: dict[ClassInfo, FlowResult] = {}

    @cached_property
    def modules(self) -> ModuleModels:
        return ModuleModels(self.index, collect_external_freezes(self.index))

    def module_classes(self) -> list[ClassInfo]:
        return list(self.modules.module_classes())

    def gradient_flow(self, cls: ClassInfo) -> FlowResult:
        """The forward gradient-flow analysis of `cls`, computed once and shared by rules."""
        if cls not in self._flows:
            self._flows[cls] = ForwardFlow(self.modules, cls).run()
        return self._flows[cls]

    def text_mentions_outside_self(self, attr: str) -> bool:
        """Is `<something other than self>.attr` written anywhere in the project?

        A cheap, conservative textual check used before claiming that a submodule is
        never used: a training script may call `model.head(features)` directly.
        """
        import re

        pattern = re.compile(rf"(?<!\bself)\.{re.escape(attr)}\b")
        return any(pattern.search(f.text) for f in self.files)

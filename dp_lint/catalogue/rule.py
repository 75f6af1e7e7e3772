"""The contract between the engine and a rule of the catalogue (`rules/<CODE>-<name>/rule.py`).

A rule is a `Rule` subclass with its code, name and summary, and a `check` that reads the
`Project` (see docs/dev/rule-api.md) and yields findings made with `report`.
"""

from __future__ import annotations

from collections.abc import Iterator
from enum import Enum
from typing import ClassVar, Protocol

import libcst as cst

from dp_lint.analysis.project import Project
from dp_lint.config import opacus_versions
from dp_lint.core.findings import Confidence, Finding, Fix, split_message
from dp_lint.files.source import SourceFile


class FixAvailability(str, Enum):
    """What `dp-lint rules` shows in its FIX column: the best applicability the rule's
    fixes carry. A test checks it against the fixes the rule's cases really get."""

    NONE = "none"
    SAFE = "safe"
    UNSAFE = "unsafe"


class Located(Protocol):
    """A result that knows where it is: a node and the file holding it."""

    @property
    def file(self) -> SourceFile: ...

    @property
    def node(self) -> cst.CSTNode: ...


class Rule:
    """A rule states what it finds, why Opacus breaks, and how sure it is.

    Subclasses set the class attributes and implement `check`, which receives the
    whole project (parsed files, shared index, shared analyses) and yields findings
    made with `report`. The long documentation lives next to the rule in `README.md`.
    """

    code: ClassVar[str]
    name: ClassVar[str]
    summary: ClassVar[str]
    fix_availability: ClassVar[FixAvailability] = FixAvailability.NONE
    # DPL000 and DPL900 are reported by the lint engine itself (a file that does not parse,
    # an unused suppression); their catalogue entries hold documentation and selection only.
    reported_by_engine: ClassVar[bool] = False
    # Keys of the version table (dp_lint/config/opacus_versions.py) the rule's findings depend on.
    # On a release where none of them holds, the engine drops the rule's findings; a finding made
    # with `report(..., behaviour=key)` depends on that one behaviour only. Empty: every release.
    opacus_behaviours: ClassVar[tuple[str, ...]] = ()

    _project: Project | None = None

    def check(self, project: Project) -> Iterator[Finding]:
        raise NotImplementedError

    def run(self, project: Project) -> Iterator[Finding]:
        """What the engine calls: `check` with `report` bound to this project."""
        self._project = project
        try:
            yield from self.check(project)
        finally:
            self._project = None

    def report(
        self,
        node: cst.CSTNode | Located,
        message: str,
        *,
        file: SourceFile | None = None,
        fix: Fix | None = None,
        confidence: Confidence = Confidence.HIGH,
        behaviour: str | None = None,
        help: str | None = None,
    ) -> Finding:
        """A finding of this rule at `node`: a libcst node of the project (its file is found
        from the node, or given as `file`), or a result that carries its own file and node.
        `behaviour`: the version-table key this finding depends on (default: the rule's
        `opacus_behaviours`); it is recorded in `extra["opacus"]` as the releases it holds for.
        `message`: what is wrong and its consequence (at most 120 characters); `help`: the fix
        and the Opacus error text (shown on a `help:` line). Without `help`, the message's
        first sentence is the message and the rest its help."""
        if not isinstance(node, cst.CSTNode):
            file, node = node.file, node.node
        if file is None:
            if self._project is None:
                raise RuntimeError("report() without a file is only available inside check()")
            file = self._project.file_of(node)
        start, end = file.span(node)
        keys = (behaviour,) if behaviour else self.opacus_behaviours
        extra = {"opacus": {"behaviours": list(keys), "holds": [opacus_versions.behaviour(k).holds for k in keys]}} \
            if keys else {}
        if help is None:
            message, help = split_message(message)
        return Finding(
            code=self.code,
            name=self.name,
            message=message,
            help=help,
            path=file.path,
            location=start,
            end_location=end,
            confidence=confidence,
            fix=fix,
            extra=extra,
        )


class EngineReported(Rule):
    """Base of the catalogue entries whose findings the lint engine makes (DPL000, DPL900)."""

    reported_by_engine: ClassVar[bool] = True

    def check(self, project: Project) -> Iterator[Finding]:
        return iter(())

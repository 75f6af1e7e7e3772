"""The contract between the engine and a rule of the catalogue (`rules/<ID>-<name>/rule.py`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, Iterable

from dp_lint.findings import Finding

if TYPE_CHECKING:
    from dp_lint.project import Project


class Rule:
    """A rule states what it finds, why Opacus breaks, and how sure it is.

    Subclasses set the class attributes and implement `check`, which receives the
    whole project (parsed files, shared index, shared analyses) and yields findings.
    The long documentation lives next to the rule in `README.md`.
    """

    code: ClassVar[str]
    name: ClassVar[str]
    summary: ClassVar[str]
    # "none", "safe" or "unsafe": what `dp-lint rules` shows in its FIX column.
    fix_availability: ClassVar[str] = "none"

    def check(self, project: "Project") -> Iterable[Finding]:
        raise NotImplementedError

    def finding(self, project: "Project", file, node, message: str, **kwargs) -> Finding:
        start, end = file.span(node)
        return Finding(
            code=self.code,
            name=self.name,
            message=message,
            path=file.path,
            location=start,
            end_location=end,
            **kwargs,
        )

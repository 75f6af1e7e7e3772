"""What a rule reports: a finding with its location, confidence and (later) its fix."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path

DOCS_URL = "https://dp-lint.readthedocs.io/en/latest/rules/{code}-{name}/"


class Confidence(str, Enum):
    """How sure a rule is that the finding is a real Opacus failure.

    HIGH: every fact the rule relies on was seen in the source (the module class is
    known to own trainable parameters, the stop-gradient is unconditional).
    MEDIUM: one fact is inferred (e.g. a module passed in from outside whose class is
    not visible, assumed trainable because nothing in the project freezes it).
    """

    HIGH = "high"
    MEDIUM = "medium"


@dataclass(frozen=True, order=True)
class Location:
    """1-based row and 1-based column, like ruff's JSON output."""

    row: int
    column: int


class Applicability(str, Enum):
    """SAFE: ordinary (non-private) training computes exactly the same outputs and gradients
    after the fix. UNSAFE: the fix changes the model's layout or weights (needs --unsafe-fixes)."""

    SAFE = "safe"
    UNSAFE = "unsafe"


@dataclass(frozen=True)
class Edit:
    """Replace the text between two locations (1-based row and column, end exclusive) with `content`."""

    location: Location
    end_location: Location
    content: str

    def to_json(self) -> dict:
        return {
            "content": self.content,
            "location": {"row": self.location.row, "column": self.location.column},
            "end_location": {"row": self.end_location.row, "column": self.end_location.column},
        }


@dataclass(frozen=True)
class Fix:
    applicability: Applicability
    message: str
    edits: tuple[Edit, ...]

    def to_json(self) -> dict:
        return {
            "applicability": self.applicability.value,
            "message": self.message,
            "edits": [edit.to_json() for edit in self.edits],
        }


@dataclass(frozen=True)
class Finding:
    code: str
    name: str
    message: str
    path: Path
    location: Location
    end_location: Location
    confidence: Confidence = Confidence.HIGH
    fix: Fix | None = None
    extra: dict = field(default_factory=dict, compare=False, hash=False)

    @property
    def url(self) -> str:
        return DOCS_URL.format(code=self.code, name=self.name)

    def sort_key(self) -> tuple:
        return (str(self.path), self.location.row, self.location.column, self.code)

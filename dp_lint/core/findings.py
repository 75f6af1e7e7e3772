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
    # The fix advice and the Opacus error text, shown on a `help:` line below the short
    # `message` (what is wrong and its consequence). Empty: the message says it all.
    help: str = ""

    @property
    def safe_fix(self) -> bool:
        """Whether `fix --apply` (without --unsafe-fixes) applies this finding's fix: `[*]`."""
        return self.fix is not None and self.fix.applicability is Applicability.SAFE

    @property
    def url(self) -> str:
        return DOCS_URL.format(code=self.code, name=self.name)

    def sort_key(self) -> tuple:
        return (str(self.path), self.location.row, self.location.column, self.code)


# A sentence ends at `. ` (or `.` at the end) outside backticks and brackets, before a capital
# letter or a backtick: `nn.Linear`, `e.g. x` and `(... ). more` are not ends.
def split_message(text: str) -> tuple[str, str]:
    """A rule's long message as (message, help): its first sentence (what is wrong and its
    consequence) and the rest (the fix and the details). A one-sentence text has no help."""
    depth = 0
    in_code = False
    for index, char in enumerate(text):
        if char == "`":
            in_code = not in_code
        elif in_code:
            continue
        elif char in "([{":
            depth += 1
        elif char in ")]}":
            depth = max(0, depth - 1)
        elif char == "." and depth == 0 and text[index + 1:index + 2] == " ":
            rest = text[index + 2:].lstrip()
            if rest[:1].isupper() or rest[:1] == "`":
                return text[: index + 1], rest
    return text, ""

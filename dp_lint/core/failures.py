"""What an analysis gave up on: counted and shown, so that no output hides it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class AnalysisFailure:
    """A file, class or rule dp-lint stopped analysing. It yields no finding and the rest is
    still checked; the command reports it and exits 2 (the check is incomplete).

    `subject` names what was given up on (`class M`, `file a.py`, `rule DPL101`), `reason`
    why (the exception, or the limit that was passed); `path` is the file when one is known.
    `limit`: a documented limit of dp-lint (a file nested deeper than it analyses) rather
    than a dp-lint bug.
    """

    subject: str
    reason: str
    path: Path | None = None
    limit: bool = False

    def __str__(self) -> str:
        return f"{self.subject}: {self.reason}"

    def to_json(self) -> dict:
        return {"subject": self.subject, "reason": self.reason,
                "filename": str(self.path) if self.path is not None else None,
                "kind": "limit" if self.limit else "internal-error"}


def gave_up_line(failures: list[AnalysisFailure] | tuple[AnalysisFailure, ...]) -> str:
    """`dp-lint gave up on 2 analyses (1 file): ...`, for the end of a report; "" when none."""
    if not failures:
        return ""
    count = len(failures)
    files = len({f.path for f in failures if f.path is not None})
    where = f" ({files} file{'s' * (files != 1)})" if files else ""
    return (f"dp-lint gave up on {count} analys{'es' if count != 1 else 'is'}{where}, see the errors above: "
            "findings there may be missing.")

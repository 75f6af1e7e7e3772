"""The one notion of "unknown value" in dp-lint's analyses, and the literal values they read.

A constructor setting, an engine's `batch_first`, an `__init__` parameter bound from a call:
when the source does not say (`**kwargs`, a value read from a config object, a name
assigned twice), the analysis answers `UNKNOWN`, and UNKNOWN never produces a finding.

`None` is not "unknown": it is the Python value `None` (`DPLSTM(..., dropout=None)`).
Test with identity (`value is UNKNOWN`); `isinstance(value, Unknown)` narrows types.
"""

from __future__ import annotations

from enum import Enum
from typing import Final, TypeAlias


class Unknown(Enum):
    """The type of `UNKNOWN` (a one-member enum, so that type checkers narrow on `is UNKNOWN`)."""

    UNKNOWN = "UNKNOWN"

    def __repr__(self) -> str:
        return "UNKNOWN"

    __str__ = __repr__


UNKNOWN: Final = Unknown.UNKNOWN

# A Python literal as dp-lint reads it from source (`literal()` in layers.py): what a
# constructor argument or an engine keyword can resolve to, besides UNKNOWN.
Constant: TypeAlias = "bool | int | float | str | bytes | None"

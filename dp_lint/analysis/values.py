"""The one notion of an unknown value."""

from __future__ import annotations

from typing import Final


class Unknown:
    """The type of `UNKNOWN`: a value dp-lint cannot tell statically. It never produces a finding."""

    _instance: Unknown | None = None

    def __new__(cls) -> Unknown:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN: Final = Unknown()

"""Input specs of forward() arguments (`float[B, 16]`, `long[B, 7] < 50`): parsed without torch,
turned into tensors in the verify child."""

from __future__ import annotations

import re
from dataclasses import dataclass

DTYPES = {"float": "float32", "double": "float64", "long": "int64", "int": "int64"}
_SPEC_RE = re.compile(
    r"^\s*(?P<dtype>[a-z]+)\s*\[(?P<dims>[^\]]*)\]\s*(?:<\s*(?P<high>\d+)\s*)?$"
)


@dataclass(frozen=True)
class InputSpec:
    """One parsed forward() argument, e.g. `long[B, 7] < 50`."""

    text: str
    dtype: str  # "float" | "double" | "long" | "int"
    dims: tuple  # ints and exactly one "B"
    high: int | None = None  # integers are drawn from [0, high)

    @property
    def batch_dim(self) -> int:
        return self.dims.index("B")

    @property
    def fixed_dims(self) -> tuple[int, ...]:
        return tuple(d for d in self.dims if d != "B")

    def shape(self, batch_size: int) -> tuple[int, ...]:
        return tuple(batch_size if d == "B" else d for d in self.dims)



def parse_input_spec(spec: str) -> InputSpec:
    """Parse `float[B, 16]`, `float[7, B, 16]` or `long[B, 7] < 50` (B marks the batch dim)."""
    match = _SPEC_RE.match(spec)
    if not match:
        raise ValueError(f"bad input spec {spec!r}: expected e.g. 'float[B, 16]' or 'long[B, 7] < 50'")
    dtype = match["dtype"]
    if dtype not in DTYPES:
        raise ValueError(f"bad input spec {spec!r}: unknown dtype {dtype!r} (use {', '.join(DTYPES)})")
    dims: list[int | str] = []
    for part in match["dims"].split(","):
        part = part.strip()
        if part == "B":
            dims.append("B")
        elif part.isdigit() and int(part) > 0:
            dims.append(int(part))
        else:
            raise ValueError(f"bad input spec {spec!r}: dimension {part!r} is neither B nor a positive int")
    if dims.count("B") != 1:
        raise ValueError(f"bad input spec {spec!r}: exactly one dimension must be B")
    high = int(match["high"]) if match["high"] is not None else None
    integer = dtype in ("long", "int")
    if integer and not high:
        raise ValueError(f"bad input spec {spec!r}: integer inputs need an upper bound, e.g. '< 50'")
    if not integer and high is not None:
        raise ValueError(f"bad input spec {spec!r}: only integer inputs take an upper bound")
    return InputSpec(text=spec, dtype=dtype, dims=tuple(dims), high=high)

"""How paths are shown to users."""

from __future__ import annotations

import os
from pathlib import Path


def display_path(path: Path, cwd: Path | None = None) -> str:
    """`path` relative to the working directory when it lies below it, else absolute."""
    cwd = cwd or Path.cwd()
    absolute = Path(os.path.abspath(path))
    try:
        return str(absolute.relative_to(cwd))
    except ValueError:
        return str(absolute)

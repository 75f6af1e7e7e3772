"""Which Opacus the project runs on, without importing it."""

from __future__ import annotations

import re
from importlib import metadata
from pathlib import Path

_PIN_RE = re.compile(r"""^\s*["']?opacus\s*(?:\[[^\]]*\])?\s*(==|<=|<|~=)\s*([0-9][0-9a-zA-Z.]*)""", re.MULTILINE | re.IGNORECASE)


def parse_version(text: str) -> tuple[int, ...] | None:
    match = re.match(r"^\s*(\d+(?:\.\d+)*)", text or "")
    if not match:
        return None
    return tuple(int(part) for part in match.group(1).split("."))


def detect_opacus_version(configured: str | None, root: Path | None) -> tuple[str | None, str]:
    """(version, where it came from). Version None: unknown."""
    if configured:
        return configured, "[tool.dp-lint] opacus-version"
    try:
        return metadata.version("opacus"), "the installed opacus package"
    except metadata.PackageNotFoundError:
        pass
    if root is not None:
        candidates = [root / "pyproject.toml", *sorted(root.glob("requirements*.txt")), *sorted(root.glob("requirements/*.txt"))]
        for path in candidates:
            try:
                text = path.read_text(encoding="utf-8", errors="replace")
            except OSError:
                continue
            match = _PIN_RE.search(text)
            if match:
                return match.group(2), f"the pin in {path.name}"
    return None, "unknown"


def affected_by_mha_bug(version: str | None) -> bool:
    """opacus <= 1.6.0 computes DPMultiheadAttention(batch_first=True, num_heads>1) wrongly."""
    parsed = parse_version(version) if version else None
    if parsed is None:
        return True
    return parsed <= (1, 6, 0)

"""The text of a finding's file, for code frames and fingerprints (read once per report)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

from dp_lint.files.source import SourceError, decode_source

_LINE_BREAK_RE = re.compile(r"\r\n|\r|\n")


def source_text(path: Path, sources: Mapping[Path, str] | None) -> str | None:
    """The file's text for its code frame, or None when there is none worth showing.

    A file that is not valid in its encoding still gets a frame (bad bytes shown as
    U+FFFD) so the user sees where it breaks; a binary file (NUL bytes) gets none
    rather than a screen of garbage.
    """
    if sources is not None and path in sources:
        return sources[path]
    try:
        data = Path(path).read_bytes()
    except OSError:
        return None
    try:
        return decode_source(data)
    except SourceError:
        return None if b"\x00" in data else data.decode("utf-8", errors="replace")


def source_lines(text: str | None) -> list[str]:
    """Lines numbered as the parser numbers rows.

    Not `str.splitlines`: it also breaks at form feeds and other Unicode separators,
    which Python's tokenizer does not, and would shift every row after them.
    """
    if text is None:
        return []
    lines = _LINE_BREAK_RE.split(text)
    if lines and lines[-1] == "":
        lines.pop()
    return lines

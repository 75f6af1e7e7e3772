"""Reading a Python file as text and writing it back exactly as it was stored.

The text keeps its line breaks; writing keeps the encoding (PEP 263 declaration), the
UTF-8 BOM, the permissions and symbolic links, and is atomic: a temporary file in the
same folder is renamed over the original, so a crash never leaves half a file.
"""

from __future__ import annotations

import codecs
import errno
import os
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path

from dp_lint.files.source import CODING_RE, decode_source


@dataclass
class TextFileState:
    text: str
    encoding: str
    bom: bool


def read_text_file(path: Path) -> TextFileState:
    return decode_text_file(Path(path).read_bytes())


def decode_text_file(data: bytes) -> TextFileState:
    """The text of a file's bytes, with what is needed to write it back the same way."""
    bom = data.startswith(codecs.BOM_UTF8)
    text = decode_source(data)  # SourceError when it cannot be decoded
    encoding = "utf-8"
    if not bom:
        for raw in data.splitlines()[:2]:
            match = CODING_RE.match(raw)
            if match:
                encoding = match.group(1).decode("ascii")
                break
    return TextFileState(text, encoding, bom)


WRITE_BITS = stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH


class ReadOnlyFileError(PermissionError):
    """The file has no write permission bit (e.g. mode 444): it is never written, even by
    root, whom the system would let replace it (the mode bits decide, not os.access, which
    is true for root)."""


def write_text_file(path: Path, text: str, state: TextFileState) -> None:
    """Write atomically (temporary file in the same folder, then rename), keeping the
    file's encoding, BOM, line breaks (the text carries them) and permissions. A
    symbolic link is kept: its target is rewritten. A read-only file (no write bit)
    raises ReadOnlyFileError and is left as it is. Errors name `path`, never the
    temporary file."""
    target = Path(os.path.realpath(path))
    data = text.encode(state.encoding)
    if state.bom:
        data = codecs.BOM_UTF8 + data
    mode = stat.S_IMODE(target.stat().st_mode)
    if not mode & WRITE_BITS:
        raise ReadOnlyFileError(errno.EACCES, f"read-only file, mode {mode:o}", str(path))
    try:
        handle = tempfile.NamedTemporaryFile(
            dir=target.parent, prefix=f".{target.name}.", suffix=".dp-lint.tmp", delete=False
        )
    except OSError as exc:  # e.g. a folder without write permission: name the file, not the temporary
        raise type(exc)(exc.errno, exc.strerror, str(path)) from None
    try:
        with handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(handle.name, mode)
        os.replace(handle.name, target)
    except BaseException as exc:
        try:
            os.unlink(handle.name)
        except OSError:
            pass
        if isinstance(exc, OSError) and exc.filename == handle.name:
            raise type(exc)(exc.errno, exc.strerror, str(path)) from None
        raise

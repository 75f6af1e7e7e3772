"""The result cache of `check`: the findings of one project group, kept in `.dp_lint_cache/`
at the project root and reused while nothing they depend on changed.

An entry is keyed by a digest of the dp-lint version, the source of the dp_lint package and
of the rules, the installed Opacus version, the resolved configuration of every file of the
group, the codes selected, and the path and content hash of every file of the group (the
files asked for and the context files), so editing any file of a project re-checks the whole
project. Entries are JSON, written atomically (a temporary file, then `os.replace`); an entry
that cannot be read, is corrupt or was written by another version is ignored and rewritten.
A cache folder that cannot be created or written is not used: the run goes on without it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import tempfile
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

import dp_lint
from dp_lint.core.failures import AnalysisFailure
from dp_lint.core.findings import Applicability, Confidence, Edit, Finding, Fix, Location

FOLDER = ".dp_lint_cache"
FORMAT = 1  # the entry layout; a stamp with another value empties the folder's meaning
STAMP = "VERSION"


def _tree_digest(root: Path, digest: hashlib._Hash) -> None:
    for path in sorted(root.rglob("*.py")):
        if "__pycache__" in path.parts:
            continue
        digest.update(str(path.relative_to(root)).encode())
        digest.update(b"\0")
        try:
            with open(path, "rb") as source:
                digest.update(source.read())
        except OSError:
            digest.update(b"?")
        digest.update(b"\0")


@lru_cache(maxsize=1)
def code_digest() -> str:
    """A digest of the dp_lint package and the rules' source: editing a rule invalidates."""
    digest = hashlib.sha256()
    package = Path(dp_lint.__file__).parent
    _tree_digest(package, digest)
    rules = package.parent / "rules"
    if rules.is_dir():
        _tree_digest(rules, digest)
    return digest.hexdigest()


@lru_cache(maxsize=1)
def opacus_version() -> str:
    from importlib import metadata

    try:
        return metadata.version("opacus")
    except metadata.PackageNotFoundError:
        return ""


def _canonical(value: object) -> object:
    if isinstance(value, (set, frozenset)):
        return sorted(str(v) for v in value)
    return str(value)


def config_text(config: object) -> str:
    data = dataclasses.asdict(config) if dataclasses.is_dataclass(config) and not isinstance(config, type) \
        else repr(config)
    return json.dumps(data, sort_keys=True, default=_canonical)


def key(files: Iterable[tuple[Path, bytes | None]], configs: Iterable[str], selected: Iterable[str],
        extra: str = "") -> str:
    """The digest an entry is stored under (see the module's docstring)."""
    digest = hashlib.sha256()
    for part in (dp_lint.__version__, str(FORMAT), code_digest(), opacus_version(), extra):
        digest.update(part.encode() + b"\0")
    for text in configs:
        digest.update(text.encode() + b"\0")
    digest.update(",".join(sorted(selected)).encode() + b"\0")
    for path, data in sorted(files, key=lambda item: str(item[0])):
        digest.update(str(path).encode() + b"\0")
        digest.update(hashlib.sha256(data).hexdigest().encode() if data is not None else b"unreadable")
        digest.update(b"\0")
    return digest.hexdigest()


def _location(data: dict) -> Location:
    return Location(int(data["row"]), int(data["column"]))


def finding_to_json(finding: Finding) -> dict:
    return {
        "code": finding.code, "name": finding.name, "message": finding.message, "help": finding.help,
        "path": str(finding.path),
        "location": {"row": finding.location.row, "column": finding.location.column},
        "end_location": {"row": finding.end_location.row, "column": finding.end_location.column},
        "confidence": finding.confidence.value,
        "fix": finding.fix.to_json() if finding.fix is not None else None,
        "extra": finding.extra,
    }


def finding_from_json(data: dict) -> Finding:
    fix = None
    if data["fix"] is not None:
        fix = Fix(Applicability(data["fix"]["applicability"]), data["fix"]["message"],
                  tuple(Edit(_location(e["location"]), _location(e["end_location"]), e["content"])
                        for e in data["fix"]["edits"]))
    return Finding(code=data["code"], name=data["name"], message=data["message"], path=Path(data["path"]),
                   location=_location(data["location"]), end_location=_location(data["end_location"]),
                   confidence=Confidence(data["confidence"]), fix=fix, extra=data["extra"], help=data["help"])


def failure_to_json(failure: AnalysisFailure) -> dict:
    return {"subject": failure.subject, "reason": failure.reason,
            "path": str(failure.path) if failure.path is not None else None, "limit": failure.limit}


def failure_from_json(data: dict) -> AnalysisFailure:
    return AnalysisFailure(data["subject"], data["reason"], Path(data["path"]) if data["path"] is not None else None,
                           bool(data["limit"]))


@dataclasses.dataclass
class Entry:
    findings: list[Finding]
    internal_errors: list[AnalysisFailure]
    decoded: list[Path]  # the files the engine could read and decode


class ResultCache:
    """The entries of one cache folder; every failure to read or write is a miss, never an error."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.usable = self._prepare()

    def _stamp(self) -> str:
        return f"dp-lint {dp_lint.__version__} cache format {FORMAT}\n"

    def _prepare(self) -> bool:
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            ignore = self.folder / ".gitignore"
            if not ignore.exists():
                self._write(ignore, "# Created by dp-lint.\n*\n")
            stamp = self.folder / STAMP
            if not stamp.exists() or stamp.read_text(encoding="utf-8") != self._stamp():
                self._write(stamp, self._stamp())
            return os.access(self.folder, os.W_OK)
        except (OSError, UnicodeDecodeError):
            return False

    def _write(self, path: Path, text: str) -> None:
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".json")
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                out.write(text)
            os.replace(temporary, path)
        except BaseException:
            try:
                os.unlink(temporary)
            except OSError:
                pass
            raise

    def _path(self, digest: str) -> Path:
        return self.folder / f"{digest}.json"

    def get(self, digest: str) -> Entry | None:
        if not self.usable:
            return None
        try:
            data = json.loads(self._path(digest).read_text(encoding="utf-8"))
            if data.get("version") != dp_lint.__version__ or data.get("format") != FORMAT or data.get("key") != digest:
                return None
            return Entry([finding_from_json(f) for f in data["findings"]],
                         [failure_from_json(f) for f in data["internal_errors"]],
                         [Path(p) for p in data["decoded"]])
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return None

    def put(self, digest: str, entry: Entry) -> None:
        if not self.usable:
            return
        data = {
            "version": dp_lint.__version__, "format": FORMAT, "key": digest,
            "findings": [finding_to_json(f) for f in entry.findings],
            "internal_errors": [failure_to_json(f) for f in entry.internal_errors],
            "decoded": [str(p) for p in entry.decoded],
        }
        try:
            self._write(self._path(digest), json.dumps(data, sort_keys=True))
        except (OSError, TypeError, ValueError):
            self.usable = False


__all__ = ["FOLDER", "ResultCache", "Entry", "key", "code_digest", "config_text"]

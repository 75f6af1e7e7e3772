"""Which Opacus the project runs on, and where dp-lint learnt it, without importing Opacus.

In order (the first that answers wins):

1. the `opacus-version` setting (`[tool.dp-lint]` or `--opacus-version`);
2. the installed `opacus` distribution's metadata (what `verify` would run);
3. a lock file of the project (`poetry.lock`, `uv.lock`, `pdm.lock`, `Pipfile.lock`): the
   version resolved there;
4. a pin in the project's requirements: `requirements*.txt`, `requirements/*.txt`,
   `pyproject.toml`, `setup.cfg`, `environment.yml`/`environment.yaml`. Only pins that tell the
   version are read: `==X`, `===X`, `~=X` (X or a later patch), `<=X`; a bare `>=`/`<` range is
   no version.

The project's folder is the configuration's folder; without a configuration file it is the
checked path's folder, and the lookup walks up from there to the repository root (the first
folder holding `.git`; outside a repository only that folder), so a `requirements.txt` needs no
`pyproject.toml` beside it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

# `opacus==1.4.1`, `opacus[extra] ~= 1.5`, `"opacus<=1.4.1",` (pyproject/setup.cfg lists), conda's `opacus=1.4.1`.
_PIN_RE = re.compile(
    r"""(?:^[\s\-"']*|["'])opacus\s*(?:\[[^\]]*\])?\s*(===|==|~=|<=|=(?!=))\s*v?([0-9][0-9a-zA-Z.]*)""",
    re.MULTILINE | re.IGNORECASE,
)
# poetry.lock / uv.lock / pdm.lock: `[[package]]` tables with `name = "opacus"` then `version = "1.4.1"`.
_LOCK_PACKAGE_RE = re.compile(
    r"""^\[\[package\]\]\s*\n(?:(?!\[\[)[^\n]*\n)*?name\s*=\s*"opacus"\s*\n(?:(?!\[\[)[^\n]*\n)*?version\s*=\s*"([^"]+)\"""",
    re.MULTILINE | re.IGNORECASE,
)
# Poetry's pyproject dependency table: `opacus = "1.4.1"` or `opacus = "==1.4.1"` or `{version = "1.4.1"}`.
_POETRY_DEP_RE = re.compile(
    r"""^\s*opacus\s*=\s*(?:\{[^}]*version\s*=\s*)?"(?:==|~|\^)?\s*([0-9][0-9a-zA-Z.]*)\"""",
    re.MULTILINE | re.IGNORECASE,
)

LOCK_FILES = ("poetry.lock", "uv.lock", "pdm.lock", "Pipfile.lock")
PIN_FILES = ("pyproject.toml", "setup.cfg", "environment.yml", "environment.yaml")


@dataclass(frozen=True)
class OpacusVersion:
    """The Opacus release dp-lint assumes, and where that came from (`source`, for messages and
    `dp-lint config`). `version` None: unknown."""

    version: str | None
    source: str

    @property
    def known(self) -> bool:
        return self.version is not None

    def describe(self) -> str:
        return f"opacus {self.version} ({self.source})" if self.version else "an unknown opacus version"


def parse_version(text: str | None) -> tuple[int, ...] | None:
    """`"1.5.2"` -> (1, 5, 2); `"1.5"` -> (1, 5); a text without a leading number -> None."""
    match = re.match(r"^\s*v?(\d+(?:\.\d+)*)", text or "")
    if not match:
        return None
    return tuple(int(part) for part in match.group(1).split("."))


def installed_opacus() -> str | None:
    try:
        return metadata.version("opacus")
    except metadata.PackageNotFoundError:
        return None


def resolve_opacus_version(
    configured: str | None,
    folders: Iterable[Path] = (),
    *,
    installed: Callable[[], str | None] | None = None,
) -> OpacusVersion:
    """The Opacus version for a check (see the module's docstring). `folders`: where to look for
    lock files and pins, nearest first."""
    if configured:
        return OpacusVersion(configured, "the opacus-version setting")
    version = (installed or installed_opacus)()
    if version:
        return OpacusVersion(version, "the installed opacus package")
    for folder in folders:
        found = version_in_folder(folder)
        if found is not None:
            return found
    return OpacusVersion(None, "unknown: no setting, no installed opacus, no pin or lock file")


def project_folders(root: Path | None, checked: Iterable[Path] = ()) -> list[Path]:
    """The folders to search for pins: the configuration's folder when there is one, else the
    checked paths' common folder and its parents up to the repository root (inclusive); outside
    a repository, the common folder alone."""
    if root is not None:
        return [root]
    paths = [Path(p).resolve() for p in checked]
    if not paths:
        return []
    start = paths[0] if paths[0].is_dir() else paths[0].parent
    for path in paths[1:]:
        folder = path if path.is_dir() else path.parent
        while not folder.is_relative_to(start):
            start = start.parent
    folders = []
    for folder in (start, *start.parents):
        folders.append(folder)
        if (folder / ".git").exists():
            return folders
    return [start]  # no repository above: a pin in some parent folder is not this project's


def version_in_folder(folder: Path) -> OpacusVersion | None:
    """The Opacus version a lock file (first) or a pin in `folder` states, or None."""
    for name in LOCK_FILES:
        text = _read(folder / name)
        if text is None:
            continue
        version = _version_in_pipfile_lock(text) if name == "Pipfile.lock" else _first(_LOCK_PACKAGE_RE, text)
        if version:
            return OpacusVersion(version, f"the locked version in {folder / name}")
    candidates = [*sorted(folder.glob("requirements*.txt")), *sorted(folder.glob("requirements/*.txt"))]
    candidates += [folder / name for name in PIN_FILES]
    for path in candidates:
        text = _read(path)
        if text is None:
            continue
        version = _first(_PIN_RE, text, group=2)
        if version is None and path.name == "pyproject.toml":
            version = _first(_POETRY_DEP_RE, text)
        if version:
            return OpacusVersion(version, f"the pin in {path}")
    return None


def _version_in_pipfile_lock(text: str) -> str | None:
    try:
        data = json.loads(text)
    except ValueError:
        return None
    for section in ("default", "develop"):
        entry = (data.get(section) or {}).get("opacus") if isinstance(data, dict) else None
        if isinstance(entry, dict) and isinstance(entry.get("version"), str):
            return entry["version"].lstrip("=") or None
    return None


def _first(pattern: re.Pattern, text: str, group: int = 1) -> str | None:
    for match in pattern.finditer(text):
        line_start = text.rfind("\n", 0, match.start()) + 1
        if text[line_start:match.start()].lstrip().startswith("#"):
            continue  # a commented-out pin
        return match.group(group).rstrip(".")
    return None


def _read(path: Path) -> str | None:
    try:
        if path.is_file() and path.stat().st_size <= 5_000_000:  # a lock file of a huge monorepo: skip
            return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        pass
    return None


def detect_opacus_version(configured: str | None, root: Path | None) -> tuple[str | None, str]:
    """(version, where it came from), for callers that hold only a configuration root."""
    found = resolve_opacus_version(configured, project_folders(root))
    return found.version, found.source

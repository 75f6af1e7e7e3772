"""`[tool.dp-lint]` in the nearest `pyproject.toml`."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path


class ConfigError(Exception):
    """A configuration problem; the message names the file and the key."""


@dataclass(frozen=True)
class Config:
    assume_batch_first: bool = True
    opacus_version: str | None = None
    path: Path | None = None  # the pyproject.toml it came from

    @property
    def root(self) -> Path | None:
        return self.path.parent if self.path else None


_KEYS = {"assume-batch-first": bool, "opacus-version": str}


def find_pyproject(start: Path) -> Path | None:
    start = start.resolve()
    folder = start if start.is_dir() else start.parent
    for candidate in [folder, *folder.parents]:
        path = candidate / "pyproject.toml"
        if path.is_file():
            return path
    return None


def load_config(path: Path | None) -> Config:
    if path is None:
        return Config()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    section = data.get("tool", {}).get("dp-lint", {})
    if not isinstance(section, dict):
        raise ConfigError(f"{path}: [tool.dp-lint] must be a table")
    values = {}
    for key, value in section.items():
        expected = _KEYS.get(key)
        if expected is None:
            known = ", ".join(sorted(_KEYS))
            raise ConfigError(f"{path}: unknown key `{key}` in [tool.dp-lint] (known keys: {known})")
        if not isinstance(value, expected):
            raise ConfigError(
                f"{path}: `{key}` in [tool.dp-lint] must be a {expected.__name__}, got {value!r}"
            )
        values[key.replace("-", "_")] = value
    return Config(path=path, **values)

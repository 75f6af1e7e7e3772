"""`[tool.dp-lint]` in the nearest `pyproject.toml`, command-line overrides, and rule selection.

A file's configuration is the `[tool.dp-lint]` table of the nearest `pyproject.toml`
above it that has one (like ruff, a `pyproject.toml` without the table is passed
over), or the file given with `--config`, which then applies to every file. Nested
configurations do not inherit from each other. Command-line options override every
configuration. `ConfigResolver` resolves each folder once and remembers it.

Errors (`ConfigError`) name the file and the key.
"""

from __future__ import annotations

import difflib
import os
import re
import sys

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from dp_lint.config.opacus_version import OpacusVersion

# Folder and file names never walked into unless named on the command line; `exclude`
# replaces this list, `extend-exclude` adds to it (gitignore syntax, like ruff's).
DEFAULT_EXCLUDE = (
    ".git",
    ".hg",
    ".svn",
    "__pycache__",
    ".venv",
    "venv",
    "build",
    "dist",
    ".tox",
    ".nox",
    ".mypy_cache",
    ".pytest_cache",
    ".ruff_cache",
    "node_modules",
    "site-packages",
    "*.egg-info",
)

# Files a folder walk checks (gitignore-style globs, like ruff's `include`); `include`
# replaces this list, `extend-include` adds to it. Files named on the command line are
# always checked.
DEFAULT_INCLUDE = ("*.py", "*.ipynb")

SECTION = "[tool.dp-lint]"

# Keys of one `[[tool.dp-lint.verify]]` table and the types they must have. Only the
# types are checked here; `dp-lint verify` reads the values.
VERIFY_KEYS: dict[str, tuple[type, ...]] = {
    "model": (str,),
    "run": (str,),
    "args": (list,),
    "kwargs": (dict,),
    "inputs": (list,),
    "loss": (str,),
    "batch_first": (bool,),
    "loss_reduction": (str,),
    "grad_sample_mode": (str,),
}

VERSION_PATTERN = r"^\d+(\.\d+)*([.-]?[0-9A-Za-z.+-]*)?$"
_VERSION_RE = re.compile(VERSION_PATTERN)


class ConfigError(Exception):
    """A configuration problem; the message names the file and the key."""


@dataclass(frozen=True)
class Config:
    """The settings of one configuration file (or the defaults), command-line overrides applied.

    Rule-code lists keep what was written (codes, prefixes or `ALL`, upper-cased);
    `enabled_codes` resolves them. `per_file_ignores` and the exclusion patterns are
    relative to `root`, the configuration file's folder.
    """

    assume_batch_first: bool = True
    opacus_version: str | None = None
    path: Path | None = None  # the file holding [tool.dp-lint] (or the nearest pyproject.toml)
    select: tuple[str, ...] | None = None  # None: every rule
    extend_select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    per_file_ignores: tuple[tuple[str, tuple[str, ...]], ...] = ()
    exclude: tuple[str, ...] = DEFAULT_EXCLUDE
    extend_exclude: tuple[str, ...] = ()
    include: tuple[str, ...] = DEFAULT_INCLUDE
    extend_include: tuple[str, ...] = ()
    cache_dir: Path | None = None  # the result cache's folder; None: `.dp_lint_cache` at the project root
    verify_targets: tuple[dict, ...] = field(default=(), hash=False, compare=False)
    # Whether `path` really holds a [tool.dp-lint] table (False: defaults, `path` is
    # only the nearest pyproject.toml, which still tells the project's root).
    has_section: bool = False
    # Keys set in the file and on the command line, for `dp-lint config`.
    from_file: frozenset[str] = frozenset()
    from_command_line: frozenset[str] = frozenset()
    # Command-line --select/--extend-select/--ignore, applied after the file's (ruff's order).
    cli_select: tuple[str, ...] | None = None
    cli_extend_select: tuple[str, ...] = ()
    cli_ignore: tuple[str, ...] = ()

    @property
    def root(self) -> Path | None:
        return self.path.parent if self.path else None

    def enabled_codes(self, known: Iterable[str]) -> frozenset[str]:
        """The codes this configuration enables, like ruff: each source (the file, then the
        command line) either replaces the set (`select`) or keeps it, then adds
        `extend-select` and removes `ignore`."""
        known = sorted(known)
        enabled = set(known)
        for select, extend, ignore in (
            (self.select, self.extend_select, self.ignore),
            (self.cli_select, self.cli_extend_select, self.cli_ignore),
        ):
            if select is not None:
                enabled = expand_codes(select, known)
            enabled |= expand_codes(extend, known)
            enabled -= expand_codes(ignore, known)
        return frozenset(enabled)

    def ignored_for(self, path: Path, known: Iterable[str]) -> frozenset[str]:
        """Codes `per-file-ignores` turns off for `path`."""
        if not self.per_file_ignores:
            return frozenset()
        relative = relative_posix(path, self.root)
        if relative is None:
            return frozenset()
        ignored: set[str] = set()
        for pattern, codes in self.per_file_ignores:
            if _glob_spec((pattern,)).match_file(relative):
                ignored |= expand_codes(codes, known)
        return frozenset(ignored)

    def exclude_patterns(self) -> tuple[str, ...]:
        return tuple(self.exclude) + tuple(self.extend_exclude)

    def include_patterns(self) -> tuple[str, ...]:
        return tuple(self.include) + tuple(self.extend_include)

    def with_overrides(self, overrides: Overrides | None) -> Config:
        if overrides is None:
            return self
        changes: dict[str, Any] = {}
        for name in ("assume_batch_first", "opacus_version", "exclude"):
            value = getattr(overrides, name)
            if value is not None:
                changes[name] = value
        if overrides.extend_exclude:
            changes["extend_exclude"] = tuple(self.extend_exclude) + tuple(overrides.extend_exclude)
        changes["cli_select"] = overrides.select
        changes["cli_extend_select"] = tuple(overrides.extend_select)
        changes["cli_ignore"] = tuple(overrides.ignore)
        return replace(self, from_command_line=overrides.keys(), **changes)


@dataclass(frozen=True)
class Overrides:
    """Command-line options that override every configuration file."""

    select: tuple[str, ...] | None = None
    extend_select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    exclude: tuple[str, ...] | None = None
    extend_exclude: tuple[str, ...] = ()
    assume_batch_first: bool | None = None
    opacus_version: str | None = None

    def keys(self) -> frozenset[str]:
        """The configuration keys these options set (hyphenated, as in the file)."""
        keys = set()
        for f in fields(self):
            value = getattr(self, f.name)
            if value not in (None, ()):
                keys.add(f.name.replace("_", "-"))
        return frozenset(keys)


# --- codes -------------------------------------------------------------------------


def split_codes(values: Iterable[str]) -> list[str]:
    """`["DPL001,DPL002", " dpl1 "]` -> `["DPL001", "DPL002", "DPL1"]`."""
    codes = []
    for value in values:
        for raw in str(value).split(","):
            code = raw.strip().upper()
            if code:
                codes.append(code)
    return codes


def unknown_codes(codes: Iterable[str], known: Iterable[str]) -> list[str]:
    known = list(known)
    return [c for c in codes if c != "ALL" and not any(k.startswith(c) for k in known)]


def closest(name: str, candidates: Iterable[str], *, cutoff: float = 0.6) -> str | None:
    """The candidate nearest to a misspelt `name` (difflib's similarity ratio, at least `cutoff`),
    or None. Equally near ones: the one sharing the longest start with `name`, then the first in
    sorted order (`DPL01` -> DPL001, not DPL101)."""
    scored = []
    for candidate in sorted(candidates):
        ratio = difflib.SequenceMatcher(None, name, candidate).ratio()
        if ratio >= cutoff:
            shared = len(os.path.commonprefix([name, candidate]))
            scored.append((ratio, shared, candidate))
    if not scored:
        return None
    best = max(scored, key=lambda item: (item[0], item[1]))  # the first of equals: sorted order
    return best[2]


# A code suggestion needs a closer match than a key's: `DLP001` or `DPL01` -> DPL001, while
# `DPL999` names no rule and gets none (DPL900 is only two characters nearer than any other).
CODE_SUGGESTION_CUTOFF = 0.8


def code_suggestions(unknown: Iterable[str], known: Iterable[str]) -> str:
    """" (did you mean 'DPL001'?)" for the unknown codes that are near a known one, or ""."""
    known = list(known)
    pairs = [(code, closest(code, known, cutoff=CODE_SUGGESTION_CUTOFF)) for code in unknown]
    hints = [f"{best!r} for {code!r}" if len(pairs) > 1 else repr(best) for code, best in pairs if best]
    return f" (did you mean {', '.join(hints)}?)" if hints else ""


def expand_codes(codes: Iterable[str], known: Iterable[str]) -> set[str]:
    """Codes, prefixes and `ALL` -> the known codes they name."""
    known = list(known)
    expanded: set[str] = set()
    for code in codes:
        prefix = "" if code == "ALL" else code
        expanded.update(k for k in known if k.startswith(prefix))
    return expanded



# --- paths -------------------------------------------------------------------------


def relative_posix(path: Path, base: Path | None) -> str | None:
    """`path` relative to `base` with `/` separators, or None when it is not below it."""
    if base is None:
        return None
    import os

    try:
        return Path(os.path.abspath(path)).relative_to(Path(os.path.abspath(base))).as_posix()
    except ValueError:
        return None


def _glob_spec(patterns: tuple[str, ...]):
    import pathspec

    return pathspec.GitIgnoreSpec.from_lines(list(patterns))


# --- finding and reading files -------------------------------------------------------


def find_pyproject(start: Path) -> Path | None:
    """The nearest `pyproject.toml` at or above `start` (with or without [tool.dp-lint])."""
    start = start.resolve()
    folder = start if start.is_dir() else start.parent
    for candidate in [folder, *folder.parents]:
        path = candidate / "pyproject.toml"
        if path.is_file():
            return path
    return None


def has_section(pyproject: Path) -> bool:
    """Does this `pyproject.toml` hold a [tool.dp-lint] table? (A file that cannot be read or
    parsed counts as not holding one; reading its configuration reports the error.)"""
    try:
        data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return False
    tool = data.get("tool")
    return isinstance(tool, dict) and "dp-lint" in tool


def _read_toml(path: Path) -> dict:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None


def _section(path: Path, data: dict, *, pyproject: bool) -> dict | None:
    """The [tool.dp-lint] table of a parsed file; None when a pyproject.toml has none."""
    tool = data.get("tool", {})
    if not isinstance(tool, dict):
        raise ConfigError(f"{path}: `tool` must be a table")
    if "dp-lint" not in tool:
        if pyproject:
            return None
        raise ConfigError(f"{path}: no {SECTION} table in this file")
    section = tool["dp-lint"]
    if not isinstance(section, dict):
        raise ConfigError(f"{path}: {SECTION} must be a table")
    return section


def load_config(path: Path | None, known: Iterable[str]) -> Config:
    """The configuration in `path` (a pyproject.toml or any TOML file with [tool.dp-lint]).

    `None` gives the defaults. A file without [tool.dp-lint] gives the defaults too,
    with `path` kept (it tells the project's root). Rule codes are checked against
    `known` (every code dp-lint has: the catalogue's, which this stage does not import).
    """
    if path is None:
        return Config()
    data = _read_toml(path)
    section = _section(path, data, pyproject=True)
    if section is None:
        return Config(path=path)
    return parse_section(path, section, known)


# Each key of [tool.dp-lint] and how its value is read (dp_lint/config/schema.py builds the
# JSON schema from this table).
KEY_KINDS: dict[str, str] = {
    "select": "codes",
    "extend-select": "codes",
    "ignore": "codes",
    "per-file-ignores": "per-file-ignores",
    "exclude": "patterns",
    "extend-exclude": "patterns",
    "include": "patterns",
    "extend-include": "patterns",
    "assume-batch-first": "bool",
    "opacus-version": "version",
    "verify": "verify",
    "cache-dir": "folder",
}
KNOWN_KEYS = tuple(sorted(KEY_KINDS))


def _describe(value: Any) -> str:
    names = {bool: "a boolean", str: "a string", int: "an integer", float: "a number",
             list: "an array", dict: "a table"}
    return f"{names.get(type(value), type(value).__name__)} ({toml_value(value)})"


def parse_section(path: Path, section: Mapping[str, Any], known: Iterable[str]) -> Config:
    """Validate a [tool.dp-lint] table; every error names `path` and the key."""
    known = sorted(known)
    values: dict[str, Any] = {}
    for key, value in section.items():
        kind = KEY_KINDS.get(key)
        where = f"{path}: `{key}` in {SECTION}"
        if kind is None:
            underscored = key.replace("_", "-")
            suggestion = underscored if underscored in KEY_KINDS else closest(key, KNOWN_KEYS)
            hint = f" (did you mean `{suggestion}`?)" if suggestion else ""
            raise ConfigError(
                f"{path}: unknown key `{key}` in {SECTION}{hint}; known keys: {', '.join(KNOWN_KEYS)}"
            )
        attr = key.replace("-", "_")
        if kind == "codes":
            values[attr] = _codes(where, value, known)
        elif kind == "patterns":
            values[attr] = _patterns(where, value)
        elif kind == "bool":
            if not isinstance(value, bool):
                raise ConfigError(f"{where} must be true or false, got {_describe(value)}")
            values[attr] = value
        elif kind == "version":
            if not isinstance(value, str) or not _VERSION_RE.match(value.strip()):
                raise ConfigError(
                    f"{where} must be a version string such as \"1.6.0\", got {_describe(value)}"
                )
            values[attr] = value.strip()
        elif kind == "per-file-ignores":
            values[attr] = _per_file_ignores(path, value, known)
        elif kind == "folder":
            if not isinstance(value, str) or not value.strip():
                raise ConfigError(f"{where} must be a folder path (a string), got {_describe(value)}")
            folder = Path(value.strip()).expanduser()
            values[attr] = folder if folder.is_absolute() else path.parent / folder
        elif kind == "verify":
            values["verify_targets"] = _verify_targets(path, value)
    return Config(path=path, has_section=True, from_file=frozenset(section), **values)


def _string_list(where: str, value: Any, what: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{where} must be an array of {what}, got {_describe(value)}")
    return value


def _codes(where: str, value: Any, known: list[str]) -> tuple[str, ...]:
    codes = split_codes(_string_list(where, value, "rule codes (strings)"))
    unknown = unknown_codes(codes, known)
    if unknown:
        raise ConfigError(
            f"{where}: unknown rule code or prefix {', '.join(map(repr, unknown))}"
            f"{code_suggestions(unknown, known)}; "
            f"known codes: {', '.join(known)}"
        )
    return tuple(codes)


def _patterns(where: str, value: Any) -> tuple[str, ...]:
    patterns = _string_list(where, value, "patterns (strings)")
    for pattern in patterns:
        try:
            _glob_spec((pattern,))
        except ValueError as exc:
            raise ConfigError(f"{where}: invalid pattern {pattern!r}: {exc}") from None
    return tuple(patterns)


def _per_file_ignores(path: Path, value: Any, known: list[str]) -> tuple[tuple[str, tuple[str, ...]], ...]:
    where = f"{path}: `per-file-ignores` in {SECTION}"
    if not isinstance(value, dict):
        raise ConfigError(
            f"{where} must be a table of glob patterns to arrays of rule codes, got {_describe(value)}"
        )
    entries = []
    for pattern, codes in value.items():
        inner = f"{path}: `per-file-ignores.{_toml_key(pattern)}` in {SECTION}"
        if not pattern.strip():
            raise ConfigError(f"{where}: a glob pattern must not be empty")
        _patterns(inner, [pattern])
        entries.append((pattern, _codes(inner, codes, known)))
    return tuple(entries)


def _verify_targets(path: Path, value: Any) -> tuple[dict, ...]:
    where = f"{path}: `verify` in {SECTION}"
    if isinstance(value, dict):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise ConfigError(
            f"{where} must be an array of tables ([[tool.dp-lint.verify]]), got {_describe(value)}"
        )
    targets = []
    for number, target in enumerate(value):
        label = f"{path}: [[tool.dp-lint.verify]] number {number + 1}"
        for key, item in target.items():
            expected = VERIFY_KEYS.get(key)
            if expected is None:
                suggestion = closest(key, VERIFY_KEYS) or closest(key.replace("-", "_"), VERIFY_KEYS)
                hint = f" (did you mean `{suggestion}`?)" if suggestion else ""
                raise ConfigError(
                    f"{label}: unknown key `{key}`{hint}; known keys: {', '.join(sorted(VERIFY_KEYS))}"
                )
            if not isinstance(item, expected):
                type_name = {str: "a string", list: "an array", dict: "a table", bool: "true or false"}[expected[0]]
                raise ConfigError(f"{label}: `{key}` must be {type_name}, got {_describe(item)}")
        if "model" not in target and "run" not in target:
            raise ConfigError(f"{label}: `model` is required (the class or factory function to build), "
                              "or `run` (a training command to capture the model from)")
        if "model" in target and "run" in target:
            raise ConfigError(f"{label}: `model` and `run` exclude each other (one table per model)")
        if "inputs" in target and not all(isinstance(i, str) for i in target["inputs"]):
            raise ConfigError(f"{label}: `inputs` must be an array of strings such as \"float[B, 16]\"")
        targets.append(dict(target))
    return tuple(targets)


# --- resolution per folder ------------------------------------------------------------


class ConfigResolver:
    """The configuration of each folder, each resolved once.

    With `config_file` every folder gets that file's configuration. Otherwise a folder
    gets the nearest [tool.dp-lint] at or above it; without one, the defaults (with the
    nearest pyproject.toml as `path`, for the project's root). `overrides` are applied
    to every configuration.
    """

    def __init__(self, config_file: Path | None = None, overrides: Overrides | None = None,
                 *, known: Iterable[str]):
        self.overrides = overrides
        self.known = sorted(known)
        self._folders: dict[Path, Config] = {}
        self._files: dict[Path, Config] = {}  # parsed configuration files
        self._fixed: Config | None = None
        if config_file is not None:
            if not config_file.is_file():
                raise ConfigError(f"configuration file {config_file} does not exist")
            data = _read_toml(config_file)
            section = _section(config_file, data, pyproject=config_file.name == "pyproject.toml")
            base = Config(path=config_file) if section is None else parse_section(
                Path(config_file).absolute(), section, self.known
            )
            self._fixed = base.with_overrides(overrides)

    @property
    def fixed(self) -> bool:
        return self._fixed is not None

    def for_path(self, path: Path) -> Config:
        """The configuration that applies to a file or folder."""
        import os

        absolute = Path(os.path.abspath(path))
        folder = absolute if absolute.is_dir() else absolute.parent
        return self.for_folder(folder)

    def for_folder(self, folder: Path) -> Config:
        if self._fixed is not None:
            return self._fixed
        cached = self._folders.get(folder)
        if cached is not None:
            return cached
        # Walk up until a folder already known or one with [tool.dp-lint]; every folder
        # on the way gets the same answer.
        chain = []
        current = folder
        found: Config | None = None
        nearest_pyproject: Path | None = None
        while True:
            if current in self._folders:
                found = self._folders[current]
                break
            chain.append(current)
            candidate = current / "pyproject.toml"
            if candidate.is_file():
                config = self._load(candidate)
                if config.has_section:
                    found = config
                    break
                nearest_pyproject = nearest_pyproject or candidate
            if current.parent == current:
                break
            current = current.parent
        if found is None:
            found = Config(path=nearest_pyproject).with_overrides(self.overrides)
        elif not found.has_section and nearest_pyproject is not None and found.path != nearest_pyproject:
            # Defaults found above; a nearer pyproject.toml is the better project root.
            found = replace(found, path=nearest_pyproject)
        for item in chain:
            self._folders[item] = found
        return found

    def _load(self, path: Path) -> Config:
        if path not in self._files:
            data = _read_toml(path)
            section = _section(path, data, pyproject=True)
            config = Config(path=path) if section is None else parse_section(path, section, self.known)
            self._files[path] = config.with_overrides(self.overrides)
        return self._files[path]


# --- printing (dp-lint config) -----------------------------------------------------------


def toml_value(value: Any) -> str:
    """`value` written as a TOML value (for `dp-lint config` and configuration hints)."""
    import json

    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        items = ", ".join(f"{_toml_key(k)} = {toml_value(v)}" for k, v in value.items())
        return "{" + (f" {items} " if items else "") + "}"
    if value is None:
        return '""'
    return json.dumps(str(value))


def _toml_key(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else toml_value(key)


def effective_items(config: Config) -> list[tuple[str, Any, str]]:
    """(key, value, origin) of every key, as `dp-lint config` prints them."""
    source = str(config.path) if config.has_section else None

    def origin(key: str) -> str:
        if key in config.from_command_line:
            return "command line"
        if key in config.from_file and source:
            return source
        return "default"

    select = list(config.select) if config.select is not None else ["ALL"]
    items = [
        ("select", select, origin("select")),
        ("extend-select", list(config.extend_select), origin("extend-select")),
        ("ignore", list(config.ignore), origin("ignore")),
        ("per-file-ignores", {p: list(c) for p, c in config.per_file_ignores}, origin("per-file-ignores")),
        ("exclude", list(config.exclude), origin("exclude")),
        ("extend-exclude", list(config.extend_exclude), origin("extend-exclude")),
        ("include", list(config.include), origin("include")),
        ("extend-include", list(config.extend_include), origin("extend-include")),
        ("assume-batch-first", config.assume_batch_first, origin("assume-batch-first")),
        ("opacus-version", config.opacus_version, origin("opacus-version")),
        ("verify", [dict(t) for t in config.verify_targets], origin("verify")),
    ]
    if config.cli_select is not None:
        items[0] = ("select", list(config.cli_select), "command line")
    if config.cli_extend_select:
        items[1] = ("extend-select", list(config.extend_select) + list(config.cli_extend_select), "command line")
    if config.cli_ignore:
        items[2] = ("ignore", list(config.ignore) + list(config.cli_ignore), "command line")
    return items


def render_config(config: Config, known: Iterable[str], target: Path | None = None,
                  opacus: OpacusVersion | None = None) -> str:
    """The effective configuration as TOML, each key followed by where it came from; `opacus`:
    the Opacus version in use and where it came from (a comment line)."""
    known = sorted(known)
    lines = []
    if target is not None:
        lines.append(f"# Effective configuration for {target}")
    if config.has_section:
        lines.append(f"# Read from {config.path} ({SECTION})")
    else:
        lines.append(f"# No {SECTION} found: defaults")
        if config.path is not None:
            lines.append(f"# Project root (nearest pyproject.toml): {config.root}")
    if config.from_command_line:
        lines.append(f"# Command-line options: {', '.join(sorted(config.from_command_line))}")
    if opacus is not None:
        lines.append(f"# Opacus in use: {opacus.version}, from {opacus.source}" if opacus.version
                     else f"# Opacus in use: {opacus.source}")
    lines.append("")
    lines.append(SECTION)
    for key, value, origin in effective_items(config):
        if key == "verify":
            continue
        if value is None:
            lines.append(f"# {key} is not set ({origin})")
            continue
        lines.append(f"{key} = {toml_value(value)}  # {origin}")
    verify_origin = effective_items(config)[-1][2]
    for target_table in config.verify_targets:
        lines.append("")
        lines.append(f"[[tool.dp-lint.verify]]  # {verify_origin}")
        for key, value in target_table.items():
            lines.append(f"{key} = {toml_value(value)}")
    lines.append("")
    lines.append(f"# Enabled rules: {', '.join(sorted(config.enabled_codes(known))) or '(none)'}")
    if config.per_file_ignores:
        lines.append(f"# per-file-ignores and exclude patterns are relative to {config.root}")
    return "\n".join(lines) + "\n"


def config_as_json(config: Config, known: Iterable[str], opacus: OpacusVersion | None = None) -> dict:
    data = {
        "path": str(config.path) if config.has_section else None,
        "root": str(config.root) if config.root else None,
        "settings": {key: value for key, value, _ in effective_items(config)},
        "origins": {key: origin for key, _, origin in effective_items(config)},
        "enabled_rules": sorted(config.enabled_codes(known)),
    }
    if opacus is not None:
        data["opacus"] = {"version": opacus.version, "source": opacus.source}
    return data

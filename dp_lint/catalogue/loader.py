"""The rule catalogue: one folder per rule with `rule.py`, `README.md` and `cases/`."""

from __future__ import annotations

import importlib.util
import re
import sys
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from dp_lint.catalogue.rule import FixAvailability, Rule

_FOLDER_RE = re.compile(r"^(DPL\d{3})-([a-z0-9-]+)$")


def catalogue_root() -> Path:
    """The `rules/` folder: next to the package in a checkout, else the installed copy."""
    here = Path(__file__).resolve().parent.parent.parent / "rules"  # dp_lint/catalogue/ -> the checkout
    if here.is_dir():
        return here
    # deferred: only an installed dp-lint (no checkout beside it) has this package
    import dp_lint_rules  # installed by `pip install .` (see pyproject.toml)

    return Path(dp_lint_rules.__file__).resolve().parent


@dataclass(frozen=True)
class RuleEntry:
    code: str
    name: str
    folder: Path
    rule: Rule

    @property
    def documentation(self) -> str:
        return (self.folder / "README.md").read_text(encoding="utf-8")

    @property
    def cases_dir(self) -> Path:
        return self.folder / "cases"

    @property
    def summary(self) -> str:
        return self.rule.summary

    @property
    def fix_availability(self) -> str:
        """"none", "safe" or "unsafe"."""
        return FixAvailability(self.rule.fix_availability).value


def _load_rule(folder: Path, code: str) -> Rule:
    module_name = f"dp_lint_rules._{code.lower()}"
    if module_name in sys.modules:
        module = sys.modules[module_name]
    else:
        spec = importlib.util.spec_from_file_location(module_name, folder / "rule.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module
        spec.loader.exec_module(module)
    rules = [
        obj
        for obj in vars(module).values()
        if isinstance(obj, type) and issubclass(obj, Rule) and obj is not Rule
        and getattr(obj, "code", None) == code
    ]
    if len(rules) != 1:
        raise RuntimeError(f"{folder}/rule.py must define exactly one Rule with code {code}")
    return rules[0]()


@lru_cache(maxsize=1)
def load_catalogue() -> tuple[RuleEntry, ...]:
    entries = []
    for folder in sorted(catalogue_root().iterdir()):
        match = _FOLDER_RE.match(folder.name)
        if not match or not (folder / "rule.py").is_file():
            continue
        code, name = match.groups()
        rule = _load_rule(folder, code)
        if rule.name != name:
            raise RuntimeError(f"{folder}: folder name does not match rule name {rule.name!r}")
        entries.append(RuleEntry(code=code, name=name, folder=folder, rule=rule))
    return tuple(entries)


def all_codes() -> dict[str, str]:
    """Every code dp-lint can report, with its name: the one list behind `rules`, the
    configuration's code checks, SARIF metadata and the documentation generator."""
    return {entry.code: entry.name for entry in load_catalogue()}


def find_entry(code_or_name: str) -> RuleEntry | None:
    """The entry named by a code (`DPL001`, any case) or a rule name."""
    wanted = code_or_name.strip()
    for entry in load_catalogue():
        if wanted.upper() == entry.code or wanted.lower() == entry.name:
            return entry
    return None


def engine_reported_codes() -> dict[str, str]:
    """Codes the lint engine reports itself (DPL000, DPL900), with their names."""
    return {entry.code: entry.name for entry in load_catalogue() if entry.rule.reported_by_engine}

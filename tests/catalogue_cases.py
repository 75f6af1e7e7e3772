"""The catalogue's example cases and the findings they expect (`# expect: DPL001` comments)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from dp_lint.catalogue.loader import is_case

REPO = Path(__file__).resolve().parent.parent
RULES = REPO / "rules"
EXPECT_RE = re.compile(r"#\s*expect:\s*(DPL\d{3}(?:\s*,\s*DPL\d{3})*)")


@dataclass(frozen=True)
class StaticCase:
    rule: str
    name: str
    path: Path  # a file, or a folder holding a small project

    @property
    def id(self) -> str:
        return f"{self.rule}/{self.name}"

    @property
    def kind(self) -> str:
        return self.name.split("_", 1)[0]

    def files(self) -> list[Path]:
        if self.path.is_file():
            return [self.path]
        return sorted(p for p in self.path.rglob("*.py") if "__pycache__" not in p.parts)

    def case_dict(self) -> dict:
        """The case's CASE dict (in the file, or the one file of a folder case that has it)."""
        from runtime_cases import read_case_dict

        for file in self.files():
            spec = read_case_dict(file)
            if spec is not None:
                return spec
        return {}

    def opacus_versions(self) -> list[str | None]:
        """The Opacus releases the case is linted against: None (whatever is installed) for a case
        that holds on every release; else the newest measured release inside its `opacus` range;
        plus one release per `versions` override, so each expectation is checked statically too."""
        from dp_lint.config.opacus_versions import representative_release

        spec = self.case_dict()
        versions: list[str | None] = [representative_release(spec["opacus"]) if spec.get("opacus") else None]
        for version_range in spec.get("versions", {}):
            release = representative_release(",".join(filter(None, (spec.get("opacus"), version_range))))
            if release not in versions:
                versions.append(release)
        return versions

    def expected(self) -> set[tuple[Path, int, str]]:
        found = set()
        for file in self.files():
            for row, line in enumerate(file.read_text(encoding="utf-8").splitlines(), start=1):
                match = EXPECT_RE.search(line)
                if match:
                    for code in re.split(r"\s*,\s*", match.group(1)):
                        found.add((file, row, code))
        return found


def all_cases() -> list[StaticCase]:
    cases = []
    for rule_dir in sorted(RULES.glob("DPL*-*")):
        cases_dir = rule_dir / "cases"
        if not cases_dir.is_dir():
            continue
        for entry in sorted(cases_dir.iterdir()):
            if is_case(entry):  # pinned fixes (`flag_x.fixed.py`, `flag_x.fixed/`) are not cases
                cases.append(StaticCase(rule_dir.name, entry.stem if entry.is_file() else entry.name, entry))
    return cases

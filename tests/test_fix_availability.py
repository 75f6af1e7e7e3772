"""A rule's declared `fix_availability` matches the applicability its fixes really carry.

Every catalogue case is checked and fixed (`dp-lint fix --unsafe-fixes`, every pass); the
applicabilities seen per code must agree with the declaration: NONE never yields a fix, SAFE
yields at least one safe fix and no unsafe one, UNSAFE yields at least one unsafe fix. The
engine's own codes (DPL000, DPL900) have no cases; they are measured on a small sample each.
"""

from __future__ import annotations

from collections import defaultdict
from functools import lru_cache
from pathlib import Path

import pytest
from catalogue_cases import all_cases

from dp_lint.catalogue.loader import load_catalogue
from dp_lint.catalogue.rule import FixAvailability
from dp_lint.core.findings import Applicability, Finding
from dp_lint.files.discovery import discover
from dp_lint.lint import run as runner
from dp_lint.lint.check import check_files
from dp_lint.lint.fix_loop import run_fixes

ENTRIES = load_catalogue()

# Engine-reported codes, measured on a sample each (the catalogue has no cases for them).
ENGINE_SAMPLES = {
    "DPL000": "def forward(self, x)\n    return x\n",
    "DPL900": "x = 1  # dp-lint: ignore[DPL001]\n",
}


def _findings_of(paths: list[Path]) -> list[Finding]:
    """The findings of a check, and every finding the fix passes met (later passes included)."""
    files = discover(paths)
    report = run_fixes(files, unsafe=True)
    return list(check_files(files).findings) + list(report.fixed) + list(report.remaining)


def _run_findings_of(path: Path) -> list[Finding]:
    """As `_findings_of`, through a whole run: suppressions apply and DPL900 is reported."""
    report = run_fixes(runner.Request(paths=[path]), unsafe=True)
    return list(report.fixed) + list(report.remaining)


def _add(seen: dict[str, set[str]], findings: list[Finding]) -> None:
    for finding in findings:
        seen[finding.code].add(finding.fix.applicability.value if finding.fix else "none")


@lru_cache(maxsize=1)
def measured() -> dict[str, frozenset[str]]:
    """Code -> the applicabilities its findings carried ("none" for a finding without a fix)."""
    seen: dict[str, set[str]] = defaultdict(set)
    for case in all_cases():
        _add(seen, _findings_of([case.path]))
    return {code: frozenset(values) for code, values in seen.items()}


@pytest.fixture(scope="module")
def engine_measured(tmp_path_factory) -> dict[str, frozenset[str]]:
    seen: dict[str, set[str]] = defaultdict(set)
    folder = tmp_path_factory.mktemp("engine_samples")
    for code, text in ENGINE_SAMPLES.items():
        path = folder / f"{code.lower()}.py"
        path.write_text(text, encoding="utf-8")
        _add(seen, [f for f in _run_findings_of(path) if f.code == code])
    return {code: frozenset(values) for code, values in seen.items()}


@pytest.mark.parametrize("entry", ENTRIES, ids=[e.code for e in ENTRIES])
def test_declared_fix_availability_matches_the_fixes(entry, engine_measured):
    source = engine_measured if entry.rule.reported_by_engine else measured()
    seen = source.get(entry.code, frozenset())
    declared = FixAvailability(entry.rule.fix_availability)
    where = "its sample" if entry.rule.reported_by_engine else "the catalogue's cases"
    assert seen, f"{entry.code}: no finding in {where}, so its fix availability cannot be checked"
    safe, unsafe = Applicability.SAFE.value, Applicability.UNSAFE.value
    if declared is FixAvailability.NONE:
        assert seen == {"none"}, f"{entry.code} declares no fix, but its findings carry {sorted(seen)}"
    elif declared is FixAvailability.SAFE:
        assert safe in seen and unsafe not in seen, (
            f"{entry.code} declares safe fixes; its findings carry {sorted(seen)}"
        )
    else:
        assert unsafe in seen, f"{entry.code} declares unsafe fixes; its findings carry {sorted(seen)}"


def test_engine_samples_cover_every_engine_code():
    assert set(ENGINE_SAMPLES) == {e.code for e in ENTRIES if e.rule.reported_by_engine}

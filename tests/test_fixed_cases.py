"""Every case's fix is pinned next to it and compared here, without torch.

`flag_x.py` -> `flag_x.fixed.py` holds what `dp-lint fix --unsafe-fixes` makes of the case;
a folder case `flag_x/` -> `flag_x.fixed/` holds the files the fix changes (same relative
paths). A changed fix therefore fails as a fix test, long before the runtime proof
(tests/test_fix_proof.py) runs it under Opacus. Pinned fixes are not cases.
"""

from __future__ import annotations

import difflib
import importlib.util
from pathlib import Path

import pytest
from catalogue_cases import RULES, all_cases
from runtime_cases import collect_cases

from dp_lint.catalogue.loader import is_pinned_fix, load_catalogue, pinned_fix_path
from dp_lint.lint import run as runner

REPO_ROOT = Path(__file__).resolve().parent.parent
REGENERATE = "run `python docs/gen_docs.py --write-fixed-cases`, review the diff and commit it"
CASES = all_cases()


def load_generator():
    spec = importlib.util.spec_from_file_location("gen_docs", REPO_ROOT / "docs" / "gen_docs.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


GENERATOR = load_generator()


def _pinned_texts(pinned: Path) -> dict[str, str]:
    return GENERATOR.committed_pinned_fixes().get(pinned, {}) if pinned.exists() else {}


def _diff(name: str, pinned: str | None, computed: str | None) -> str:
    return "\n".join(difflib.unified_diff(
        (pinned or "").splitlines(), (computed or "").splitlines(),
        fromfile=f"pinned/{name}", tofile=f"computed/{name}", lineterm="", n=1,
    ))


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_pinned_fix_matches_the_fix(case):
    computed = GENERATOR.fixed_case_texts(case.path)
    pinned_path = pinned_fix_path(case.path)
    where = pinned_path.relative_to(REPO_ROOT)
    if not computed:
        assert not pinned_path.exists(), f"{where}: the fix no longer changes {case.id}; {REGENERATE}"
        return
    assert pinned_path.exists(), f"{case.id} has a fix but no pinned fixed text ({where}); {REGENERATE}"
    pinned = _pinned_texts(pinned_path)
    differences = [
        _diff(name, pinned.get(name), computed.get(name))
        for name in sorted(set(pinned) | set(computed))
        if pinned.get(name) != computed.get(name)
    ]
    assert not differences, (
        f"{where} differs from what `dp-lint fix --unsafe-fixes` makes of {case.id} now; if the new fix is "
        f"intended, {REGENERATE}\n" + "\n".join(differences)
    )


def test_every_fixable_flag_case_has_a_pinned_fix():
    # The fix-proof cases: every flagged case the fixes change (DPL001's, DPL003's, ...).
    flagged_with_fix = [c for c in CASES if c.kind == "flag" and GENERATOR.fixed_case_texts(c.path)]

    assert flagged_with_fix, "no flagged case has a fix: the catalogue lost its fixes?"
    missing = [c.id for c in flagged_with_fix if not pinned_fix_path(c.path).exists()]
    assert not missing, f"flagged cases without a pinned fix: {missing}; {REGENERATE}"


def test_no_pinned_fix_is_orphaned():
    cases = {c.path for c in CASES}
    orphans = [
        path.relative_to(REPO_ROOT).as_posix()
        for entry in load_catalogue() if entry.cases_dir.is_dir()
        for path in entry.cases_dir.iterdir()
        if is_pinned_fix(path) and not any(pinned_fix_path(case) == path for case in cases)
    ]
    assert not orphans, f"pinned fixes without their case: {orphans}; {REGENERATE}"


def test_pinned_fixes_are_not_cases():
    assert not [c.id for c in CASES if is_pinned_fix(c.path)]
    assert not [c.id for c in collect_cases() if is_pinned_fix(c.root or c.model_file)]
    assert not any(entry_case for entry in load_catalogue() for entry_case in entry.cases() if is_pinned_fix(entry_case))


def test_check_over_the_catalogue_skips_pinned_fixes():
    # rules/pyproject.toml excludes them, as `dp-lint check rules/` reads it.
    checked = runner.prepare(runner.Request(paths=[RULES])).files

    assert any(".fixed" not in p.as_posix() for p in checked)
    assert not [p for p in checked if ".fixed/" in p.as_posix() or p.name.endswith(".fixed.py")]


def test_pinned_fix_paths():
    assert pinned_fix_path(Path("cases/flag_a.py")) == Path("cases/flag_a.fixed.py")
    assert pinned_fix_path(Path("cases/flag_project")) == Path("cases/flag_project.fixed")
    assert is_pinned_fix(Path("cases/flag_a.fixed.py")) and is_pinned_fix(Path("cases/flag_project.fixed"))
    assert not is_pinned_fix(Path("cases/flag_a.py"))

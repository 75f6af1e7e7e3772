"""Every catalogue case is linted: findings must be exactly the `# expect:` comments.

This runs without torch or opacus: `check` never imports user code.
"""

from __future__ import annotations

import pytest
from catalogue_cases import all_cases

from dp_lint.config.settings import Config
from dp_lint.files.discovery import discover
from dp_lint.lint.check import check_files

CASES = all_cases()
VERSIONED = [(case, version) for case in CASES for version in case.opacus_versions()]


@pytest.mark.parametrize("case, version", VERSIONED,
                         ids=[c.id + (f"@opacus-{v}" if v else "") for c, v in VERSIONED])
def test_case_findings_match_expectations(case, version):
    assert version is not None or not case.case_dict().get("opacus"), \
        f"{case.id}: no measured release inside its opacus range"
    result = check_files(discover([case.path]), config=Config(opacus_version=version) if version else None)
    found = {(f.path.resolve(), f.location.row, f.code) for f in result.findings}
    expected = {(p.resolve(), row, code) for p, row, code in case.expected()}
    missing = expected - found
    unexpected = found - expected
    details = "\n".join(
        [f"missing   {p.name}:{row} {code}" for p, row, code in sorted(missing)]
        + [f"unexpected {p.name}:{row} {code}: {_message(result, p, row, code)}" for p, row, code in sorted(unexpected)]
    )
    assert not missing and not unexpected, details


def _message(result, path, row, code):
    for f in result.findings:
        if f.path.resolve() == path and f.location.row == row and f.code == code:
            return f.message
    return ""


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_case_kind_matches_expectations(case):
    own_code = case.rule.split("-", 1)[0]
    own = {code for _, _, code in case.expected() if code == own_code}
    if case.kind == "flag":
        assert own, f"{case.id}: a flag_ case needs at least one `# expect: {own_code}`"
    else:
        assert not own, f"{case.id}: a clean_ case must not expect {own_code}"


def test_catalogue_has_enough_cases():
    counts = {}
    for case in CASES:
        key = (case.rule.split("-", 1)[0], case.kind)
        counts[key] = counts.get(key, 0) + 1
    minimum = {"DPL001": 8, "DPL003": 4}
    for code, needed in minimum.items():
        assert counts.get((code, "flag"), 0) >= needed, (code, counts)
        assert counts.get((code, "clean"), 0) >= needed, (code, counts)

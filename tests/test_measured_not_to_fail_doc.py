"""docs/measured-not-to-fail.md: every clean case it links exists, is a clean case, and runs "ok" under Opacus;
the page is linked from the docs index, the README and the site's navigation."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from catalogue_cases import EXPECT_RE, StaticCase

from dp_lint.catalogue.loader import is_case

REPO = Path(__file__).resolve().parent.parent
PAGE = REPO / "docs" / "measured-not-to-fail.md"
# A link target naming a catalogue case: `rules/<CODE>-<name>/cases/clean_...`, relative or as a repository URL
# (`https://github.com/<org>/dp-lint/blob|tree/main/rules/...`).
CASE_LINK_RE = re.compile(r"\]\((?:[^)\s]*?/(?:blob|tree)/[^/)\s]+/)?(rules/(DPL\d{3}-[\w-]+)/cases/([^)\s/#]+))/?\)")
ENTRY_RE = re.compile(r"^### (\d+)\. ", re.MULTILINE)


def _page() -> str:
    return PAGE.read_text(encoding="utf-8")


def _linked_cases() -> list[tuple[str, str, str]]:
    return sorted(set(CASE_LINK_RE.findall(_page())))


LINKED = _linked_cases()


def test_page_links_catalogue_cases():
    assert len(LINKED) >= 50


def test_links_name_only_rules_case_paths():
    # Every link into rules/ must be caught by CASE_LINK_RE (no typo in a path goes unchecked).
    targets = re.findall(r"\]\(([^)\s]*rules/DPL[^)\s]*)\)", _page())
    unchecked = [t for t in targets if "/cases/" in t and not CASE_LINK_RE.search(f"]({t})")]
    assert not unchecked


@pytest.mark.parametrize("link, rule, name", LINKED, ids=[link for link, _, _ in LINKED])
def test_linked_case_is_a_clean_case_that_runs_ok(link, rule, name):
    path = REPO / link
    assert path.exists(), f"{link} does not exist"
    assert name.startswith("clean_"), f"{link} is not a clean case"
    assert is_case(path), f"{link} is not a catalogue case (a pinned fix?)"
    case = StaticCase(rule, path.stem if path.is_file() else path.name, path)
    expects = [f"{file.relative_to(REPO)}:{row}" for file in case.files()
               for row, line in enumerate(file.read_text(encoding="utf-8").splitlines(), start=1)
               if EXPECT_RE.search(line)]
    assert not expects, f"{link} expects findings: {expects}"
    spec = case.case_dict()
    assert spec, f"{link} has no CASE dict (the catalogue runtime test would not execute it)"
    if "runtime" in spec:
        assert spec["runtime"] == "ok", f"{link}: CASE runtime is {spec['runtime']!r}"
    for version_range, override in spec.get("versions", {}).items():
        assert override.get("runtime", "ok") == "ok", f"{link}: runtime on {version_range} is {override['runtime']!r}"


def test_entries_are_numbered_in_order():
    numbers = [int(n) for n in ENTRY_RE.findall(_page())]
    assert numbers == list(range(1, len(numbers) + 1))


def test_page_is_linked_from_the_docs_index_the_readme_and_the_nav():
    assert "(measured-not-to-fail.md)" in (REPO / "docs" / "index.md").read_text(encoding="utf-8")
    assert "(docs/measured-not-to-fail.md)" in (REPO / "README.md").read_text(encoding="utf-8")
    assert "measured-not-to-fail.md" in (REPO / "mkdocs.yml").read_text(encoding="utf-8")

"""Every rule's README has the catalogue's fixed headings, in order, under a `# CODE name` title.

The long text of a rule lives in its README only (its rule.py docstring is one line), so the
sections a reader, `dp-lint explain` and the documentation site rely on are checked here.
"""

from __future__ import annotations

import re

import pytest

from dp_lint.catalogue.loader import load_catalogue

HEADINGS = [
    "What it finds",
    "Why Opacus fails",
    "Example",
    "Fix",
    "Fix safety",
    "Confidence",
    "Opacus versions",
    "References",
]

ENTRIES = load_catalogue()


def section_headings(markdown: str) -> list[str]:
    """The `## ` headings of a markdown text, outside fenced code blocks."""
    headings, fenced = [], False
    for line in markdown.splitlines():
        if line.startswith("```"):
            fenced = not fenced
        elif not fenced and line.startswith("## "):
            headings.append(line[3:].strip())
    return headings


def sections(markdown: str) -> dict[str, str]:
    parts = re.split(r"^## (.+)$", markdown, flags=re.MULTILINE)
    return {title.strip(): body.strip() for title, body in zip(parts[1::2], parts[2::2])}


@pytest.mark.parametrize("entry", ENTRIES, ids=[e.code for e in ENTRIES])
def test_readme_has_the_fixed_headings_in_order(entry):
    found = section_headings(entry.documentation)

    assert found == HEADINGS, (
        f"{entry.folder.name}/README.md: `## ` headings must be exactly {HEADINGS}, in this order; found {found}"
    )


@pytest.mark.parametrize("entry", ENTRIES, ids=[e.code for e in ENTRIES])
def test_readme_title_is_code_and_name(entry):
    first_line = entry.documentation.splitlines()[0]

    assert first_line == f"# {entry.code} {entry.name}"


@pytest.mark.parametrize("entry", ENTRIES, ids=[e.code for e in ENTRIES])
def test_every_section_has_text(entry):
    empty = [title for title, body in sections(entry.documentation).items() if not body]

    assert not empty, f"{entry.folder.name}/README.md: empty sections {empty}"


def test_section_headings_ignore_code_blocks():
    text = "# T\n\n## What it finds\n```python\n## not a heading\n```\n## Example\n"

    assert section_headings(text) == ["What it finds", "Example"]

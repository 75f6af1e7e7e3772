"""The release the docs point to exists: its changelog section, and the tag they install from."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from dp_lint import __version__

REPO = Path(__file__).resolve().parent.parent
DOCS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
# `pip install "dp-lint @ git+...@v0.2.0"`, pre-commit's `rev: v0.2.0`, the schema's `raw/v0.2.0/`.
TAG_MENTION = re.compile(r"(?:@|rev: |raw/)(v\d+\.\d+\.\d+)\b")


def test_the_version_has_a_dated_changelog_section():
    changelog = (REPO / "CHANGELOG.md").read_text(encoding="utf-8")
    assert re.search(rf"^## {re.escape(__version__)} - \d{{4}}-\d{{2}}-\d{{2}}$", changelog, re.MULTILINE), __version__


def test_docs_install_the_current_release():
    mentions = {(path.name, tag) for path in DOCS for tag in TAG_MENTION.findall(path.read_text(encoding="utf-8"))}
    assert mentions, "the docs name no release tag"
    assert {tag for _, tag in mentions} == {f"v{__version__}"}, sorted(mentions)


def test_the_release_tag_exists_in_a_checkout_with_tags():
    if shutil.which("git") is None or not (REPO / ".git").exists():
        pytest.skip("not a git checkout")
    tags = subprocess.run(["git", "tag", "--list"], cwd=REPO, capture_output=True, text=True).stdout.split()
    if not tags:
        pytest.skip("this checkout has no tags (a shallow or tag-less clone)")
    assert f"v{__version__}" in tags

"""The committed rule pages in docs/rules/ must match the catalogue."""

import importlib.util
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
DOCS_RULES = REPO_ROOT / "docs" / "rules"


def load_generator():
    spec = importlib.util.spec_from_file_location("gen_docs", REPO_ROOT / "docs" / "gen_docs.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_docs_rules_are_up_to_date(tmp_path):
    load_generator().generate(tmp_path)

    expected = {p.name: p.read_text(encoding="utf-8") for p in tmp_path.iterdir()}
    committed = {p.name: p.read_text(encoding="utf-8") for p in DOCS_RULES.glob("*.md")}

    stale = sorted(set(committed) - set(expected))
    missing = sorted(set(expected) - set(committed))
    changed = sorted(n for n in set(expected) & set(committed) if expected[n] != committed[n])
    assert not (stale or missing or changed), (
        "docs/rules/ is out of date with the rule catalogue "
        f"(missing: {missing}, stale: {stale}, changed: {changed}); "
        "run `python docs/gen_docs.py` and commit the result"
    )


def test_every_rule_has_a_page_and_an_index_row():
    generator = load_generator()
    pages = generator.render()

    for row in generator._rows():
        assert generator.page_name(row) in pages
        assert f"[{row['code']}]({generator.page_name(row)})" in pages["index.md"]


def test_rule_page_is_the_readme_followed_by_its_cases(tmp_path):
    from dp_lint.catalogue.loader import RuleEntry
    from dp_lint.catalogue.rule import Rule

    class FakeRule(Rule):
        code, name, summary = "DPL101", "fake-rule", "A | fake."

    folder = tmp_path / "DPL101-fake-rule"
    (folder / "cases" / "flag_project" / "pkg").mkdir(parents=True)
    (folder / "README.md").write_text("# DPL101 fake-rule\n\nWhy.\n\n")
    (folder / "cases" / "flag_simple.py").write_text(
        '"""A detached projector.\n\nMore."""\nCASE = {"model": "Net", "runtime": "crash"}\n'
    )
    (folder / "cases" / "clean_frozen.py").write_text('CASE = {"model": "Net", "runtime": "ok"}\n')
    (folder / "cases" / "flag_project" / "pkg" / "model.py").write_text('CASE = {"runtime": "silent"}\n')
    (folder / "cases" / "flag_project" / "train.py").write_text("x = 1\n")
    (folder / "cases" / "notes.txt").write_text("ignored\n")
    generator = load_generator()
    row = {"code": "DPL101", "name": "fake-rule", "summary": FakeRule.summary, "fix": "none",
           "documentation": (folder / "README.md").read_text(),
           "entry": RuleEntry("DPL101", "fake-rule", folder, FakeRule())}

    assert generator.rule_page(row) == (
        "# DPL101 fake-rule\n\nWhy.\n\n"
        "## Cases\n\n"
        "- `flag_project/` (multi-file: pkg/model.py, train.py): flagged; "
        "Opacus runs, per-sample gradients are silently wrong\n"
        "- `flag_simple.py`: flagged; Opacus crashes. A detached projector.\n"
        "- `clean_frozen.py`: not flagged; Opacus works\n"
    )
    assert "A \\| fake." in generator.index_page([row])


def test_readme_rules_table_is_up_to_date():
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")

    assert load_generator().readme_table() in readme, (
        "README.md's Rules table is out of date: paste the output of "
        "`python docs/gen_docs.py --readme-table`"
    )


def test_cli_reference_is_up_to_date():
    committed = (REPO_ROOT / "docs" / "cli.md").read_text(encoding="utf-8")

    assert load_generator().cli_reference() == committed, (
        "docs/cli.md is out of date with the commands' --help: run `python docs/gen_docs.py` and commit the result"
    )


def test_cli_reference_covers_every_command():
    from dp_lint.cli import main

    page = (REPO_ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    for name in main.commands:
        assert f"## dp-lint {name}\n" in page


def test_mkdocs_nav_lists_every_rule_page():
    generator = load_generator()
    committed = (REPO_ROOT / "mkdocs.yml").read_text(encoding="utf-8")

    assert generator.mkdocs_yml(committed) == committed, (
        "mkdocs.yml's rule pages are out of date: run `python docs/gen_docs.py` and commit the result"
    )


def test_catalogue_links_become_site_links():
    generator = load_generator()
    row = {"documentation": "See [DPL003](../DPL003-trainable-module-without-gradient/README.md#fix).\n",
           "entry": None}

    assert generator.rule_page(row) == "See [DPL003](DPL003-trainable-module-without-gradient.md#fix).\n"


@pytest.mark.slow
def test_mkdocs_build_strict(tmp_path):
    import os
    import subprocess
    import sys

    if importlib.util.find_spec("mkdocs") is None:
        if os.environ.get("CI"):
            pytest.fail("mkdocs is not installed: CI installs the `docs` extra")
        pytest.skip("mkdocs is not installed (pip install -e '.[docs]')")
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert (tmp_path / "site" / "rules" / "DPL001-detach-on-trainable-output" / "index.html").is_file()
    assert (tmp_path / "site" / "cli" / "index.html").is_file()


def test_readme_rule_table_between_markers_is_generated():
    generator = load_generator()
    committed = (REPO_ROOT / "README.md").read_text(encoding="utf-8")

    assert generator.readme_md(committed) == committed, (
        "README.md's generated rule table or sample output is out of date: run `python docs/gen_docs.py` and "
        "commit the result"
    )


def test_readme_sample_is_the_real_output_of_check_examples():
    generator = load_generator()
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    sample = readme.split(generator.README_SAMPLE_BEGIN, 1)[1].split(generator.README_SAMPLE_END, 1)[0]
    # Short messages, help lines and the fixable summary, as `check` prints them today.
    assert "help: " in sample and "fixable with `dp-lint fix --apply`" in sample
    headers = [line for line in sample.splitlines() if line.startswith("examples/")]
    assert len(headers) == len(generator.SAMPLE_CODES)
    assert all(len(line.split(": ", 1)[1].split(" ", 1)[1].removeprefix("[*] ")) <= 120 for line in headers)
    stale = readme.replace("Found 11 errors.", "Found 10 errors.")
    assert stale != readme and generator.readme_md(stale) == readme


def test_fix_table_is_generated():
    generator = load_generator()
    committed = (REPO_ROOT / "docs" / "fix.md").read_text(encoding="utf-8")

    assert generator.fix_md(committed) == committed, (
        "docs/fix.md's fix table is out of date with the rules' READMEs: run `python docs/gen_docs.py` "
        "and commit the result"
    )


def test_a_stale_table_is_regenerated():
    generator = load_generator()
    committed = (REPO_ROOT / "docs" / "fix.md").read_text(encoding="utf-8")
    stale = committed.replace("| safe |", "| unsafe |", 1)

    assert stale != committed
    assert generator.fix_md(stale) == committed
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    assert generator.readme_md(readme.replace("| syntax-error |", "| old-name |")) == readme


def test_fix_table_lists_each_fixable_rule_with_its_readme_fix_sentence():
    generator = load_generator()
    table = generator.fix_table()

    for row in generator._rows():
        listed = f"[{row['code']}](rules/{generator.page_name(row)}#fix)" in table
        assert listed == (row["fix"] != "none"), row["code"]
        if listed:
            assert generator.fix_summary(row["documentation"]), f"{row['code']}: its README's Fix section is empty"


def test_fix_summary_is_the_first_paragraph_of_the_fix_section():
    generator = load_generator()
    text = "# T\n\n## Fix\nSwap the\nlayer.\n\nMore details.\n\n## Fix safety\nSafe.\n"

    assert generator.fix_summary(text) == "Swap the layer."
    assert generator.fix_summary("# T\n\n## Fix\nOnly line.\n## Fix safety\nSafe.\n") == "Only line."

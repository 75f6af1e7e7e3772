"""The committed rule pages in docs/rules/ must match the catalogue."""

import importlib.util
from pathlib import Path

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
    from dp_lint.catalogue import RuleEntry
    from dp_lint.rule import Rule

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

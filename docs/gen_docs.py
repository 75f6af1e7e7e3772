"""Generate the documentation site's generated parts from the catalogue and the CLI.

    python docs/gen_docs.py                      # rewrite docs/rules/, docs/cli.md, mkdocs.yml's rule
                                                 # list, README.md's rule table and sample output,
                                                 # docs/fix.md's fix table, dp_lint/config/schema.json
    python docs/gen_docs.py --readme-table       # print the Rules table for README.md
    python docs/gen_docs.py --write-fixed-cases  # (re)write every case's pinned fix (`flag_x.fixed.py`)

Each rule gets `docs/rules/<CODE>-<name>.md`: its README.md followed by a list of its
cases; `docs/rules/index.md` lists every rule. `docs/cli.md` is the `--help` of every
command, as click prints it. The rule pages are listed in mkdocs.yml's `nav`, the rules in
README.md's table and the fixes in docs/fix.md's table, each between two marker comments;
README.md's sample output is what `dp-lint check examples/` prints (an excerpt), run now.
Everything is committed, and tests/test_docs.py fails when it no longer matches the
catalogue or the CLI.

`--write-fixed-cases` writes, next to every case that `dp-lint fix --unsafe-fixes` changes,
the fixed text (`flag_x.fixed.py`, or `flag_x.fixed/` with the changed files of a folder
case) and removes pinned fixes that no case produces any more; tests/test_fixed_cases.py
compares them with the fixes computed now.
"""

from __future__ import annotations

import argparse
import ast
import re
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = REPO_ROOT / "docs" / "rules"
CLI_PAGE = REPO_ROOT / "docs" / "cli.md"
MKDOCS_YML = REPO_ROOT / "mkdocs.yml"
README_MD = REPO_ROOT / "README.md"
FIX_PAGE = REPO_ROOT / "docs" / "fix.md"
NAV_BEGIN = "# BEGIN generated rule pages (python docs/gen_docs.py)"
NAV_END = "# END generated rule pages"
README_TABLE_BEGIN = "<!-- BEGIN generated rule table (python docs/gen_docs.py) -->"
README_TABLE_END = "<!-- END generated rule table -->"
FIX_TABLE_BEGIN = "<!-- BEGIN generated fix table (python docs/gen_docs.py) -->"
FIX_TABLE_END = "<!-- END generated fix table -->"
README_SAMPLE_BEGIN = "<!-- sample-output -->"
README_SAMPLE_END = "<!-- /sample-output -->"
# The README's sample: the first finding of each of these codes in `dp-lint check examples/`
# (one with a safe fix, one with an unsafe fix, one with none), then the summary.
SAMPLE_COMMAND = ("check", "examples/")
SAMPLE_CODES = ("DPL001", "DPL101", "DPL002")
HELP_WIDTH = 100
# Run from a checkout without installing: make `dp_lint` importable.
sys.path.insert(0, str(REPO_ROOT))

from dp_lint.catalogue.loader import (  # noqa: E402
    RuleEntry,
    is_pinned_fix,
    load_catalogue,
    pinned_fix_path,
)

PAGE_RE = re.compile(r"^DPL\d{3}-[a-z0-9-]+\.md$")

RUNTIME_WORDS = {
    "crash": "Opacus crashes",
    "silent": "Opacus runs, per-sample gradients are silently wrong",
    "ok": "Opacus works",
}


def _table_cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _rows() -> list[dict]:
    """Every code of the catalogue (the engine's own DPL000 and DPL900 included), in code order."""
    rows = [
        {"code": entry.code, "name": entry.name, "summary": entry.summary, "fix": entry.fix_availability,
         "documentation": entry.documentation, "entry": entry}
        for entry in load_catalogue()
    ]
    return sorted(rows, key=lambda row: row["code"])


def page_name(row: dict) -> str:
    return f"{row['code']}-{row['name']}.md"


def _case_facts(files: list[Path]) -> tuple[str, str]:
    """(first docstring line, runtime) from a case's files, read statically, never imported."""
    summary, runtime = "", ""
    for path in files:
        try:
            module = ast.parse(path.read_text(encoding="utf-8"))
        except (SyntaxError, UnicodeDecodeError, ValueError):
            continue
        docstring = ast.get_docstring(module)
        if docstring and not summary:
            summary = docstring.strip().splitlines()[0]
        for node in module.body:
            if (
                isinstance(node, ast.Assign)
                and any(isinstance(t, ast.Name) and t.id == "CASE" for t in node.targets)
            ):
                try:
                    runtime = str(ast.literal_eval(node.value).get("runtime", ""))
                except (ValueError, AttributeError):
                    pass
    return summary, runtime


def _cases_section(entry: RuleEntry) -> str:
    lines = ["## Cases", ""]
    fixes: list[str] = []
    # Flagged cases first: they show what the rule is about.
    cases = sorted(entry.cases(), key=lambda c: (not c.name.startswith("flag_"), c.name))
    for case in cases:
        if case.is_dir():
            files = sorted(case.rglob("*.py"))
            label = f"`{case.name}/` (multi-file: {', '.join(f.relative_to(case).as_posix() for f in files)})"
        else:
            files = [case]
            label = f"`{case.name}`"
        verdict = "flagged" if case.name.startswith("flag_") else "not flagged"
        summary, runtime = _case_facts(files)
        details = [verdict] + ([RUNTIME_WORDS.get(runtime, runtime)] if runtime else [])
        line = f"- {label}: {'; '.join(details)}"
        lines.append(line + (f". {summary}" if summary else ""))
        if case.name.startswith("flag_"):
            fixes.extend(_fixed_case(case, entry.code))
    if len(lines) == 2:
        return ""
    if fixes:
        lines += ["", "## Fixed cases", "", "What `dp-lint fix --unsafe-fixes` does to each flagged case that has a fix:", ""]
        lines += fixes
    return "\n".join(lines).rstrip("\n") + "\n"


def _fixed_case(case: Path, code: str) -> list[str]:
    """The diff `dp-lint fix --unsafe-fixes` makes to a flagged case (the catalogue's
    "fixed" example), computed in memory; nothing when the rule has no fix for it."""
    import difflib

    from dp_lint.files.discovery import discover
    from dp_lint.lint.fix_loop import run_fixes

    report = run_fixes(discover([case]), unsafe=True)
    if not any(f.code == code for f in report.fixed):
        return []
    diff = []
    for state in report.changed:
        name = state.path.relative_to(case.parent).as_posix()
        diff.extend(
            difflib.unified_diff(
                state.original_text.splitlines(), state.text.splitlines(),
                fromfile=f"a/{name}", tofile=f"b/{name}", lineterm="", n=1,
            )
        )
    return [f"### `{case.name}`", "", "```diff", *diff, "```", ""]


def fixed_case_texts(case: Path) -> dict[str, str]:
    """What `dp-lint fix --unsafe-fixes` makes of a case, computed in memory: the text of
    every file it changes, by path relative to the case (a file case: its own name)."""
    from dp_lint.files.discovery import discover
    from dp_lint.lint.fix_loop import run_fixes

    report = run_fixes(discover([case]), unsafe=True)
    if report.dropped or report.internal_errors:
        raise RuntimeError(f"{case}: fixing failed: {report.dropped or report.internal_errors}")
    base = case.parent if case.is_file() else case
    return {state.path.relative_to(base).as_posix(): state.text for state in report.changed}


def expected_pinned_fixes() -> dict[Path, dict[str, str]]:
    """Pinned-fix path -> the files it must hold (relative path -> text), for every case of
    the catalogue that the fixes change."""
    pinned: dict[Path, dict[str, str]] = {}
    for entry in load_catalogue():
        for case in entry.cases():
            texts = fixed_case_texts(case)
            if texts:
                pinned[pinned_fix_path(case)] = texts
    return pinned


def committed_pinned_fixes() -> dict[Path, dict[str, str]]:
    """The pinned fixes in the catalogue now, read the same way."""
    pinned: dict[Path, dict[str, str]] = {}
    for entry in load_catalogue():
        if not entry.cases_dir.is_dir():
            continue
        for path in sorted(p for p in entry.cases_dir.iterdir() if is_pinned_fix(p)):
            if path.is_file():
                pinned[path] = {path.name.replace(".fixed.py", ".py"): _read(path)}
            else:
                pinned[path] = {
                    f.relative_to(path).as_posix(): _read(f)
                    for f in sorted(path.rglob("*")) if f.is_file() and "__pycache__" not in f.parts
                }
    return pinned


def _read(path: Path) -> str:
    return path.read_bytes().decode("utf-8")


def write_fixed_cases() -> list[Path]:
    """(Re)write every pinned fix and remove the ones no case produces any more."""
    import shutil

    expected = expected_pinned_fixes()
    for stale in set(committed_pinned_fixes()) - set(expected):
        if stale.is_dir():
            shutil.rmtree(stale)
        else:
            stale.unlink()
    for path, texts in expected.items():
        if path.suffix == ".py":
            (text,) = texts.values()
            path.write_bytes(text.encode("utf-8"))
            continue
        if path.is_dir():
            shutil.rmtree(path)  # a file the fix no longer changes must not stay behind
        for relative, text in texts.items():
            target = path / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(text.encode("utf-8"))
    return sorted(expected)


# A rule's README links its siblings in the catalogue (`../DPL003-name/README.md`); on the
# site they are pages next to each other.
_CATALOGUE_LINK_RE = re.compile(r"\]\(\.\./(DPL\d{3}-[a-z0-9-]+)/README\.md(#[^)]*)?\)")


def rule_page(row: dict) -> str:
    page = _CATALOGUE_LINK_RE.sub(lambda m: f"]({m.group(1)}.md{m.group(2) or ''})", row["documentation"])
    page = page.rstrip("\n") + "\n"
    if row["entry"] is not None:
        cases = _cases_section(row["entry"])
        if cases:
            page += "\n" + cases
    return page


def index_page(rows: list[dict]) -> str:
    lines = [
        "# Rules",
        "",
        "Generated by `docs/gen_docs.py` from the rule catalogue (`rules/`); do not edit.",
        "",
        "| Code | Name | Summary | Fix |",
        "| --- | --- | --- | --- |",
    ]
    for row in rows:
        lines.append(
            f"| [{row['code']}]({page_name(row)}) | {row['name']} | "
            f"{_table_cell(row['summary'])} | {row['fix']} |"
        )
    return "\n".join(lines) + "\n"


def readme_table(rows: list[dict] | None = None) -> str:
    rows = _rows() if rows is None else rows
    lines = ["| Code | Name | Summary |", "| --- | --- | --- |"]
    for row in rows:
        link = f"docs/rules/{page_name(row)}"
        lines.append(f"| [{row['code']}]({link}) | {row['name']} | {_table_cell(row['summary'])} |")
    return "\n".join(lines) + "\n"


def fix_summary(documentation: str) -> str:
    """The first paragraph of a README's `## Fix` section: the fix in one sentence."""
    match = re.search(r"^## Fix\n(.*?)(?:\n\s*\n|\n## |\Z)", documentation, flags=re.MULTILINE | re.DOTALL)
    return " ".join(match.group(1).split()) if match else ""


def fix_table(rows: list[dict] | None = None) -> str:
    """docs/fix.md's table: every rule that has a fix, its fix in one sentence, its applicability."""
    rows = _rows() if rows is None else rows
    lines = ["| Rule | Fix | Applicability |", "| --- | --- | --- |"]
    for row in rows:
        if row["fix"] == "none":
            continue
        link = f"rules/{page_name(row)}#fix"
        lines.append(f"| [{row['code']}]({link}) | {_table_cell(fix_summary(row['documentation']))} | {row['fix']} |")
    return "\n".join(lines) + "\n"


def replace_between(text: str, begin: str, end: str, content: str, what: str) -> str:
    """`text` with the lines between the marker lines `begin` and `end` replaced by `content`."""
    lines = text.splitlines(keepends=True)
    try:
        first = next(i for i, line in enumerate(lines) if line.strip() == begin)
        last = next(i for i, line in enumerate(lines) if line.strip() == end and i > first)
    except StopIteration:
        raise SystemExit(f"{what} lacks the marker lines {begin!r} / {end!r}") from None
    return "".join(lines[: first + 1]) + content + "".join(lines[last:])


def sample_output() -> str:
    """What `dp-lint check examples/` prints on a terminal (the full format), run from the
    repository root as a reader would: the text between README.md's sample markers."""
    import os

    from click.testing import CliRunner

    from dp_lint.cli import main as cli_main

    previous = Path.cwd()
    try:
        os.chdir(REPO_ROOT)
        result = CliRunner().invoke(cli_main, [*SAMPLE_COMMAND, "--output-format", "full"])
    finally:
        os.chdir(previous)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise SystemExit(f"dp-lint {' '.join(SAMPLE_COMMAND)} failed: {result.exception!r}")
    blocks = result.stdout.rstrip("\n").split("\n\n")
    findings, summary = blocks[:-1], blocks[-1]
    shown: dict[str, str] = {}
    for block in findings:
        match = re.match(r"^\S+:\d+:\d+: (DPL\d{3}) ", block)
        if match and match.group(1) in SAMPLE_CODES and match.group(1) not in shown:
            shown[match.group(1)] = block
    missing = [code for code in SAMPLE_CODES if code not in shown]
    if missing:
        raise SystemExit(f"dp-lint {' '.join(SAMPLE_COMMAND)} reports no {', '.join(missing)} any more: "
                         "update SAMPLE_CODES in docs/gen_docs.py")
    excerpt = [block for block in findings if block in shown.values()]
    return (
        f"`dp-lint {' '.join(SAMPLE_COMMAND)}` on a terminal ({len(excerpt)} of its {len(findings)} findings, "
        "then its summary; generated by `python docs/gen_docs.py`):\n\n"
        "```\n" + "\n\n".join(excerpt + [summary]) + "\n```\n"
    )


def readme_md(text: str) -> str:
    """README.md with its generated rule table and sample output brought up to date."""
    text = replace_between(text, README_TABLE_BEGIN, README_TABLE_END, readme_table(), "README.md")
    return replace_between(text, README_SAMPLE_BEGIN, README_SAMPLE_END, sample_output(), "README.md")


def fix_md(text: str) -> str:
    """docs/fix.md with its generated fix table brought up to date."""
    return replace_between(text, FIX_TABLE_BEGIN, FIX_TABLE_END, fix_table(), "docs/fix.md")


def render() -> dict[str, str]:
    """Every generated file, by name, with its content."""
    rows = _rows()
    pages = {page_name(row): rule_page(row) for row in rows}
    pages["index.md"] = index_page(rows)
    return pages


def generate(out_dir: Path = DEFAULT_OUT) -> list[Path]:
    """Write the pages into `out_dir`, removing pages of rules that no longer exist."""
    out_dir.mkdir(parents=True, exist_ok=True)
    pages = render()
    for stale in out_dir.iterdir():
        if PAGE_RE.match(stale.name) and stale.name not in pages:
            stale.unlink()
    written = []
    for name, content in pages.items():
        path = out_dir / name
        path.write_text(content, encoding="utf-8")
        written.append(path)
    return written


def cli_reference() -> str:
    """`docs/cli.md`: the help of `dp-lint` and of each of its commands, as click prints it."""

    from dp_lint.cli import main as cli_main

    def context(command, name, parent=None):
        # make_context applies the command's context_settings (`-h` as well as `--help`).
        return command.make_context(name, [], parent=parent, resilient_parsing=True,
                                    terminal_width=HELP_WIDTH, max_content_width=HELP_WIDTH)

    root = context(cli_main, "dp-lint")
    parts = [
        "# Command-line reference",
        "",
        "Generated by `docs/gen_docs.py` from the command's own `--help`; do not edit.",
        "",
        "## dp-lint",
        "",
        "```text",
        cli_main.get_help(root).rstrip(),
        "```",
    ]
    for name in cli_main.list_commands(root):
        command = cli_main.get_command(root, name)
        if command is None or command.hidden:
            continue
        parts += ["", f"## dp-lint {name}", "", "```text", command.get_help(context(command, name, root)).rstrip(), "```"]
    return "\n".join(parts) + "\n"


def mkdocs_nav(rows: list[dict] | None = None, indent: str = "      ") -> list[str]:
    """The nav entries of the rule pages (they go between NAV_BEGIN and NAV_END)."""
    rows = _rows() if rows is None else rows
    return [f"{indent}- {row['code']} {row['name']}: rules/{page_name(row)}" for row in rows]


def mkdocs_yml(text: str) -> str:
    """mkdocs.yml with its generated rule list brought up to date."""
    lines = text.splitlines()
    try:
        begin = next(i for i, line in enumerate(lines) if line.strip() == NAV_BEGIN)
        end = next(i for i, line in enumerate(lines) if line.strip() == NAV_END)
    except StopIteration:
        raise SystemExit(f"mkdocs.yml lacks the marker lines {NAV_BEGIN!r} / {NAV_END!r}") from None
    indent = lines[begin][: len(lines[begin]) - len(lines[begin].lstrip())]
    return "\n".join(lines[: begin + 1] + mkdocs_nav(indent=indent) + lines[end:]) + "\n"


def generate_site(out_dir: Path = DEFAULT_OUT, cli_page: Path = CLI_PAGE, mkdocs: Path = MKDOCS_YML,
                  readme: Path = README_MD, fix_page: Path = FIX_PAGE) -> list[Path]:
    """Rule pages, the CLI reference, mkdocs.yml's rule list, README.md's and docs/fix.md's tables."""
    written = generate(out_dir)
    cli_page.write_text(cli_reference(), encoding="utf-8")
    written.append(cli_page)
    for path, update in ((mkdocs, mkdocs_yml), (readme, readme_md), (fix_page, fix_md)):
        if path.is_file():
            path.write_text(update(path.read_text(encoding="utf-8")), encoding="utf-8")
            written.append(path)
    from dp_lint.config import schema

    schema.SCHEMA_PATH.write_text(schema.schema_text(), encoding="utf-8")
    written.append(schema.SCHEMA_PATH)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="folder to write (default: docs/rules)")
    parser.add_argument("--readme-table", action="store_true", help="print the README's Rules table instead")
    parser.add_argument("--write-fixed-cases", action="store_true",
                        help="(re)write the pinned fix of every case (flag_x.fixed.py, flag_x.fixed/) instead")
    args = parser.parse_args(argv)
    if args.readme_table:
        sys.stdout.write(readme_table())
        return 0
    if args.write_fixed_cases:
        for path in write_fixed_cases():
            print(path.relative_to(REPO_ROOT))
        return 0
    written = generate(args.out) if args.out != DEFAULT_OUT else generate_site()
    for path in written:
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())

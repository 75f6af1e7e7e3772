"""Write each rule's `## Opacus versions` table from the version table.

    python scripts/measure_versions/readme_sections.py          # rewrite the tables in rules/*/README.md
    python scripts/measure_versions/readme_sections.py --check  # exit 1 when a README is out of date

The table sits between `<!-- opacus-versions:begin -->` and `<!-- opacus-versions:end -->` under
the `## Opacus versions` heading; the prose around it is written by hand.
`tests/test_opacus_versions.py` runs the check.
"""

from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from dp_lint.catalogue.loader import load_catalogue  # noqa: E402
from dp_lint.config.opacus_versions import markdown_table  # noqa: E402

BEGIN = "<!-- opacus-versions:begin -->"
END = "<!-- opacus-versions:end -->"


def expected_readmes() -> dict[Path, str]:
    """{README path: its text with the generated table} for every rule that states behaviours."""
    result = {}
    for entry in load_catalogue():
        keys = entry.rule.opacus_behaviours
        if not keys:
            continue
        path = entry.folder / "README.md"
        text = path.read_text(encoding="utf-8")
        start, end = text.find(BEGIN), text.find(END)
        if start < 0 or end < start:
            raise SystemExit(f"{path}: no {BEGIN} ... {END} block under ## Opacus versions")
        result[path] = text[: start + len(BEGIN)] + "\n" + markdown_table(keys) + text[end:]
    return result


def main(argv: list[str]) -> int:
    stale = []
    for path, text in expected_readmes().items():
        if path.read_text(encoding="utf-8") != text:
            stale.append(path)
            if "--check" not in argv:
                path.write_text(text, encoding="utf-8")
    if stale and "--check" in argv:
        print("out of date (run scripts/measure_versions/readme_sections.py):", *map(str, stale), sep="\n  ")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

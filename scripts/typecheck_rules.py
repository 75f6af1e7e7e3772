"""Type-check every rule of the catalogue (`rules/<CODE>-<name>/rule.py`) against dp_lint.

The rule folders are not importable package names, and every rule file is called `rule.py`,
so mypy cannot take them as they are (it would see nine modules named `rule`). This script
links each one into a temporary package under a module name of its own
(`typechecked_rules.DPL001_detach_on_trainable_output`) and runs mypy once on that package, with
the repository's configuration ([tool.mypy] in pyproject.toml) and the repository's
`dp_lint` first on the search path. Imported dp_lint modules are followed for their types
but not reported on (`mypy dp_lint` checks those); errors are shown at the rule files' own
paths.

    python scripts/typecheck_rules.py            # exit status 0: no errors
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "typechecked_rules"


def rule_files(root: Path = ROOT) -> list[Path]:
    return sorted((root / "rules").glob("*/rule.py"))


def module_name(rule: Path) -> str:
    """`rules/DPL001-detach-on-trainable-output/rule.py` -> `DPL001_detach_on_trainable_output`."""
    return re.sub(r"\W", "_", rule.parent.name)


def main() -> int:
    rules = rule_files()
    if not rules:
        print("no rules found under rules/", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="dp-lint-typecheck-") as tmp:
        package = Path(tmp) / PACKAGE
        package.mkdir()
        (package / "__init__.py").write_text("")
        originals: dict[str, str] = {}
        for rule in rules:
            linked = package / f"{module_name(rule)}.py"
            linked.symlink_to(rule)
            originals[str(linked)] = str(rule.relative_to(ROOT))
        env = dict(os.environ, MYPYPATH=str(ROOT))
        command = [
            sys.executable, "-m", "mypy",
            "--config-file", str(ROOT / "pyproject.toml"),
            "--follow-imports", "silent",
            # Stricter than the package: a rule is small and its signatures are the API in use.
            "--disallow-untyped-defs", "--disallow-incomplete-defs", "--check-untyped-defs",
            "--cache-dir", str(ROOT / ".mypy_cache"),
            str(package),
        ]
        result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    output = result.stdout + result.stderr
    for linked, original in originals.items():
        output = output.replace(linked, original)
    print(output, end="")
    return result.returncode


if __name__ == "__main__":
    sys.exit(main())

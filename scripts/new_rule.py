"""Create a new rule's folder from a skeleton, then regenerate the documentation.

    python scripts/new_rule.py DPL199 demo-rule            # rules/DPL199-demo-rule/ + docs
    python scripts/new_rule.py DPL205 loss-reduction-sum --no-docs

The folder holds `rule.py` (a typed `Rule` subclass), `README.md` with the catalogue's fixed
headings, and one flag and one clean case. So that the new folder's tests run from the start,
the skeleton rule finds a placeholder: a call of `todo_<code>_placeholder(...)`, which only the
flag case makes. Every place to fill in is marked `TODO(new_rule)`, and
tests/test_rule_scaffold.py fails, naming each of them, until none is left. Replace the
placeholder check and cases with the real ones; CONTRIBUTING.md has the whole checklist.

Codes follow the ranges of CONTRIBUTING.md: DPL0xx gradient and hook problems, DPL1xx layers
Opacus refuses or mishandles, DPL2xx training-script rules. DPL000 and DPL9xx are the lint
engine's own codes and are not made with this script.
"""

from __future__ import annotations

import argparse
import importlib.util
import re
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
RULES_DIR = REPO_ROOT / "rules"
TODO = "TODO(new_rule)"

CODE_RE = re.compile(r"^DPL(\d)(\d{2})$")
NAME_RE = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")
RANGES = {
    "0": "gradient and hook problems",
    "1": "layers Opacus refuses or mishandles",
    "2": "training-script rules",
}


class ScaffoldError(Exception):
    """The code or name cannot be used (the message says why)."""


def check_code_and_name(code: str, name: str, rules_dir: Path = RULES_DIR) -> None:
    match = CODE_RE.match(code)
    if not match:
        raise ScaffoldError(f"{code!r} is not a rule code: DPL and three digits, e.g. DPL199")
    if code == "DPL000" or match.group(1) == "9":
        raise ScaffoldError(f"{code}: DPL000 and DPL9xx are the lint engine's own codes, not rule folders")
    if match.group(1) not in RANGES:
        ranges = ", ".join(f"DPL{digit}xx {what}" for digit, what in RANGES.items())
        raise ScaffoldError(f"{code}: no such range; rules use {ranges} (see CONTRIBUTING.md)")
    if not NAME_RE.match(name):
        raise ScaffoldError(f"{name!r}: a rule name is lowercase words joined by '-', e.g. demo-rule")
    for folder in sorted(rules_dir.glob("DPL*-*")):
        taken_code, _, taken_name = folder.name.partition("-")
        if taken_code == code:
            raise ScaffoldError(f"{code} is taken by {folder.name}")
        if taken_name == name:
            raise ScaffoldError(f"the name {name!r} is taken by {folder.name}")


def class_name(name: str) -> str:
    """`demo-rule` -> `DemoRule`."""
    return "".join(part.capitalize() for part in name.split("-"))


def placeholder(code: str) -> str:
    return f"todo_{code.lower()}_placeholder"


def rule_py(code: str, name: str) -> str:
    return f'''"""{code} {name}: see README.md."""

from __future__ import annotations

from collections.abc import Iterator

from dp_lint.analysis.project import Project
from dp_lint.catalogue.rule import FixAvailability, Rule
from dp_lint.core.findings import Confidence, Finding
from dp_lint.files.syntax import calls_in, dotted_name

# {TODO}: the scaffold's placeholder, so that the new cases pass from the start. Replace it
# with the real check (docs/dev/rule-api.md lists what `Project` offers), and the cases too.
PLACEHOLDER = "{placeholder(code)}"


class {class_name(name)}(Rule):
    code = "{code}"
    name = "{name}"
    summary = "{TODO}: one line: what it finds and what Opacus does"
    fix_availability = FixAvailability.NONE

    def check(self, project: Project) -> Iterator[Finding]:
        for file in project.files:
            for call in calls_in(file.module):
                if dotted_name(call.func) == PLACEHOLDER:
                    yield self.report(
                        call,
                        # At most 120 characters: what is wrong (naming the layer, variable or
                        # engine-call line) and its consequence (tests/test_catalogue_messages.py).
                        "{TODO}: what is wrong and its consequence.",
                        help="{TODO}: how to fix it, then the exact Opacus error text.",
                        file=file,
                        confidence=Confidence.HIGH,
                    )
'''


def readme_md(code: str, name: str) -> str:
    return f"""# {code} {name}

## What it finds
{TODO}: the code shape the rule reports, in one paragraph (it is the rule's SARIF description),
then what it deliberately does not report.

## Why Opacus fails
{TODO}: what Opacus does with it: the exact error text (`ValueError: ...`), or for a silent
failure the measured error (which value, how far off). Only what was measured.

## Example
```python
{TODO}: a few lines that get the finding    # {code}
```

Use instead:
```python
{TODO}: the corrected lines
```

## Fix
None yet. ({TODO}: when the rule gets a fix, the first paragraph here is one sentence saying what
it does: docs/fix.md's table shows it.)

## Fix safety
No automatic fix. ({TODO}: safe when ordinary training computes exactly the same; say why.)

## Confidence
{TODO}: when a finding is high and when medium confidence, and when the rule stays silent.

## Opacus versions
{TODO}: the versions this was measured on, e.g. "measured on opacus 1.6.0 (torch 2.13)".

## References
- {TODO}: Opacus issues, source files and lines.
"""


def flag_case(code: str) -> str:
    return f'''"""{TODO}: replace with a model that shows the problem (a real, measured Opacus failure)."""

import torch.nn as nn


def {placeholder(code)}(tensor):
    return tensor


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 2)

    def forward(self, x):
        return {placeholder(code)}(self.fc(x))  # expect: {code}


CASE = {{
    "model": "Net",
    "inputs": ["float[B, 4]"],
    "runtime": "crash",  # {TODO}: "crash" or "silent", as measured under Opacus
    "error": "{TODO}: a substring of the error Opacus raises",
}}
'''


def clean_case(code: str) -> str:
    return f'''"""{TODO}: replace with the nearest correct model, which the rule must not flag."""

import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 2)

    def forward(self, x):
        return self.fc(x)


CASE = {{
    "model": "Net",
    "inputs": ["float[B, 4]"],
    "runtime": "ok",
}}
'''


def create_rule(code: str, name: str, rules_dir: Path = RULES_DIR) -> Path:
    """Write the new rule's folder; returns it."""
    check_code_and_name(code, name, rules_dir)
    folder = rules_dir / f"{code}-{name}"
    cases = folder / "cases"
    cases.mkdir(parents=True)
    files = {
        folder / "rule.py": rule_py(code, name),
        folder / "README.md": readme_md(code, name),
        cases / "flag_placeholder.py": flag_case(code),
        cases / "clean_placeholder.py": clean_case(code),
    }
    for path, text in files.items():
        path.write_text(text, encoding="utf-8")
    return folder


def regenerate_docs() -> list[Path]:
    """docs/rules/, docs/cli.md, mkdocs.yml's rule list, README.md's and docs/fix.md's tables."""
    spec = importlib.util.spec_from_file_location("gen_docs", REPO_ROOT / "docs" / "gen_docs.py")
    assert spec is not None and spec.loader is not None
    generator = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generator)
    written: list[Path] = generator.generate_site()
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("code", help="the new rule's code, e.g. DPL199")
    parser.add_argument("name", help="the new rule's name, e.g. demo-rule")
    parser.add_argument("--no-docs", action="store_true", help="do not regenerate the documentation")
    args = parser.parse_args(argv)
    try:
        folder = create_rule(args.code.upper(), args.name)
    except ScaffoldError as error:
        print(f"new_rule.py: {error}", file=sys.stderr)
        return 2
    print(f"created {folder.relative_to(REPO_ROOT)}/")
    if not args.no_docs:
        for path in regenerate_docs():
            print(f"regenerated {path.relative_to(REPO_ROOT)}")
    print(f"Next: replace every {TODO} in {folder.relative_to(REPO_ROOT)}/ (CONTRIBUTING.md, 'Adding a rule').")
    return 0


if __name__ == "__main__":
    sys.exit(main())

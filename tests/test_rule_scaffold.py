"""`scripts/new_rule.py`: a new rule's folder whose tests run, and no scaffold left unfinished."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
TODO = "TODO(new_rule)"
# What the scaffold and the tests of a rule folder need from the repository.
# examples/: README.md's sample output is generated from `dp-lint check examples/`.
COPIED = ["dp_lint", "rules", "tests", "docs", "scripts", "examples", "pyproject.toml", "README.md", "mkdocs.yml"]


def load_script():
    spec = importlib.util.spec_from_file_location("new_rule", REPO_ROOT / "scripts" / "new_rule.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_no_rule_is_left_a_scaffold():
    unfinished = [
        f"{path.relative_to(REPO_ROOT).as_posix()}:{row}: {line.strip()}"
        for path in sorted((REPO_ROOT / "rules").rglob("*"))
        if path.is_file() and path.suffix in (".py", ".md") and "__pycache__" not in path.parts
        for row, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if TODO in line
    ]
    assert not unfinished, (
        f"a rule made by scripts/new_rule.py is not finished: replace every {TODO} "
        "(CONTRIBUTING.md, 'Adding a rule'):\n" + "\n".join(unfinished)
    )


def _copy_repository(target: Path) -> None:
    ignore = shutil.ignore_patterns("__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache")
    for name in COPIED:
        source = REPO_ROOT / name
        if source.is_dir():
            shutil.copytree(source, target / name, ignore=ignore)
        else:
            shutil.copy2(source, target / name)


def _run(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(cwd), "PYTHONDONTWRITEBYTECODE": "1"}
    # A guard against a hung child, not a speed check: the nested test run lints the whole
    # catalogue and took over 600 s on a loaded two-core machine (CI of 226a93d).
    return subprocess.run([sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=3600)


@pytest.mark.slow  # copies the repository and runs pytest in it
def test_scaffold_makes_a_rule_folder_whose_tests_run(tmp_path):
    copy = tmp_path / "repo"
    _copy_repository(copy)

    made = _run(["scripts/new_rule.py", "DPL199", "demo-rule"], copy)
    assert made.returncode == 0, made.stdout + made.stderr
    folder = copy / "rules" / "DPL199-demo-rule"
    assert sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()) == [
        "README.md", "cases/clean_placeholder.py", "cases/flag_placeholder.py", "rule.py",
    ]
    assert (copy / "docs" / "rules" / "DPL199-demo-rule.md").is_file()
    assert "[DPL199](docs/rules/DPL199-demo-rule.md)" in (copy / "README.md").read_text(encoding="utf-8")

    # The new folder's static tests pass: its cases, README headings, fix availability, and the
    # regenerated docs are up to date.
    tests = _run([
        "-m", "pytest", "-q", "-p", "no:cacheprovider",
        "tests/test_catalogue_cases.py", "tests/test_rule_readmes.py", "tests/test_fix_availability.py",
        "tests/test_architecture.py", "tests/test_docs.py",
        "-m", "not slow", "-k", "DPL199 or up_to_date or generated or mkdocs_nav",
    ], copy)
    assert tests.returncode == 0, tests.stdout + tests.stderr
    assert "DPL199" in _run(["-m", "pytest", "-q", "-p", "no:cacheprovider", "--collect-only",
                             "tests/test_catalogue_cases.py", "-k", "DPL199"], copy).stdout

    # ... and the scaffold check fails, naming what is left to do.
    unfinished = _run(["-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_rule_scaffold.py",
                       "-k", "no_rule_is_left_a_scaffold"], copy)
    assert unfinished.returncode == 1
    assert "rules/DPL199-demo-rule/rule.py" in unfinished.stdout and TODO in unfinished.stdout


@pytest.mark.parametrize(("code", "name", "reason"), [
    ("DPL001", "other-name", "taken"),
    ("DPL198", "batchnorm", "taken"),
    ("DPL901", "engine-thing", "engine"),
    ("DPL000", "engine-thing", "engine"),
    ("DPL399", "somewhere", "no such range"),
    ("DPL19", "short", "not a rule code"),
    ("DPL199", "Bad_Name", "lowercase"),
])
def test_scaffold_refuses_codes_and_names_it_must_not_use(code, name, reason):
    script = load_script()

    with pytest.raises(script.ScaffoldError, match=reason):
        script.check_code_and_name(code, name)


def test_scaffold_class_name():
    assert load_script().class_name("demo-rule") == "DemoRule"

"""The analyses rules query and the rules themselves type-check with the repository's mypy
configuration ([tool.mypy] in pyproject.toml). Skipped where mypy is not installed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytest.importorskip("mypy")


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], cwd=ROOT, capture_output=True, text=True)


def test_the_analysis_stage_type_checks():
    result = _run("-m", "mypy", "dp_lint/analysis")
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_rule_type_checks_against_dp_lint():
    result = _run("scripts/typecheck_rules.py")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Success" in result.stdout

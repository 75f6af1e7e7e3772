"""Lint small in-memory projects in tests."""

from __future__ import annotations

import textwrap
from pathlib import Path

from dp_lint.files.discovery import discover
from dp_lint.lint.check import check_files


def lint(tmp_path: Path, files: dict[str, str], select=None) -> list[tuple[str, int, str]]:
    for name, source in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(source).lstrip("\n"), encoding="utf-8")
    result = check_files(discover([tmp_path]), select=select)
    return sorted((f.path.relative_to(tmp_path).as_posix(), f.location.row, f.code) for f in result.findings)


def lint_one(tmp_path: Path, source: str, select=None) -> list[tuple[int, str]]:
    return [(row, code) for _, row, code in lint(tmp_path, {"model.py": source}, select)]

"""The real pre-commit runs dp-lint's hooks (.pre-commit-hooks.yaml) on a fresh git repository.

pre-commit builds the hooks' environment with `pip install .` of dp-lint (its core
dependencies come from PyPI). The repository it installs from is a snapshot of this
working tree (tracked and untracked, not ignored, files), committed, so the test checks
what is here now, committed or not.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = REPO_ROOT / "examples" / "simsiam"

pytestmark = pytest.mark.slow


def _require_pre_commit() -> None:
    try:
        import pre_commit  # noqa: F401
    except ImportError:
        if os.environ.get("CI"):
            pytest.fail("pre-commit is not installed: CI installs the `test` extra")
        pytest.skip("pre-commit is not installed (pip install -e '.[test]')")
    if shutil.which("git") is None:
        pytest.skip("git is not installed")


def _env(tmp_path: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "PRE_COMMIT"))}
    env.update(
        PRE_COMMIT_HOME=str(tmp_path / "pre-commit-cache"),
        GIT_AUTHOR_NAME="Test", GIT_AUTHOR_EMAIL="test@example.com",
        GIT_COMMITTER_NAME="Test", GIT_COMMITTER_EMAIL="test@example.com",
        GIT_CONFIG_GLOBAL=os.devnull, GIT_CONFIG_NOSYSTEM="1",
        NO_COLOR="1", TERM="dumb",
    )
    env.pop("PYTHONPATH", None)  # the hook must run the installed dp-lint, not this checkout
    return env


def _run(args, cwd, env, timeout=600) -> subprocess.CompletedProcess:
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


def _git(cwd, env, *args) -> str:
    result = _run(["git", *args], cwd, env)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def _snapshot(tmp_path: Path, env: dict) -> tuple[Path, str]:
    """This working tree as a committed git repository; (path, commit)."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=REPO_ROOT, capture_output=True, check=True,
    ).stdout.decode().split("\0")
    snapshot = tmp_path / "dp-lint"
    for name in filter(None, listed):
        source = REPO_ROOT / name
        if source.is_file():
            target = snapshot / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    _git(snapshot, env, "init", "-q")
    _git(snapshot, env, "add", "-A")
    _git(snapshot, env, "commit", "-q", "-m", "snapshot")
    return snapshot, _git(snapshot, env, "rev-parse", "HEAD").strip()


def _has_fix_command() -> bool:
    from dp_lint.cli import main

    return "fix" in main.commands


def test_pre_commit_hooks_block_a_broken_model_and_fix_it(tmp_path):
    _require_pre_commit()
    env = _env(tmp_path)
    hooks_repo, rev = _snapshot(tmp_path, env)
    pre_commit = [sys.executable, "-m", "pre_commit"]

    user = tmp_path / "user"
    user.mkdir()
    _git(user, env, "init", "-q")
    shutil.copy(EXAMPLE / "model.py", user / "model.py")
    shutil.copy(EXAMPLE / "train.py", user / "train.py")
    _git(user, env, "add", "model.py", "train.py")

    # `pre-commit try-repo`: the check hook fails on the staged broken model and shows the finding.
    checked = _run([*pre_commit, "try-repo", str(hooks_repo), "dp-lint", "--ref", rev], user, env)
    output = checked.stdout + checked.stderr
    assert checked.returncode == 1, output
    assert "model.py:24:14: DPL001" in output
    assert "Failed" in output

    if not _has_fix_command():
        pytest.skip("`dp-lint fix` does not exist yet: the dp-lint-fix hook cannot be tested")

    # The fix hook rewrites the model (pre-commit reports the change as a failure)...
    fixed = _run([*pre_commit, "try-repo", str(hooks_repo), "dp-lint-fix", "--ref", rev], user, env)
    assert fixed.returncode == 1, fixed.stdout + fixed.stderr
    assert "files were modified by this hook" in fixed.stdout + fixed.stderr
    assert (user / "model.py").read_text() != (EXAMPLE / "model.py").read_text()

    # ...and once the fix is staged, the check hook passes.
    _git(user, env, "add", "model.py")
    passed = _run([*pre_commit, "try-repo", str(hooks_repo), "dp-lint", "--ref", rev], user, env)
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert "Passed" in passed.stdout


def test_committing_a_broken_model_is_blocked_by_the_installed_hooks(tmp_path):
    _require_pre_commit()
    if not _has_fix_command():
        pytest.skip("`dp-lint fix` does not exist yet: the dp-lint-fix hook cannot be tested")
    env = _env(tmp_path)
    hooks_repo, rev = _snapshot(tmp_path, env)
    pre_commit = [sys.executable, "-m", "pre_commit"]

    user = tmp_path / "user"
    user.mkdir()
    _git(user, env, "init", "-q")
    (user / ".pre-commit-config.yaml").write_text(
        "repos:\n"
        f"  - repo: {hooks_repo}\n"
        f"    rev: {rev}\n"
        "    hooks:\n"
        "      - id: dp-lint\n"
        "      - id: dp-lint-fix\n"
    )
    shutil.copy(EXAMPLE / "model.py", user / "model.py")
    shutil.copy(EXAMPLE / "train.py", user / "train.py")
    installed = _run([*pre_commit, "install"], user, env)
    assert installed.returncode == 0, installed.stdout + installed.stderr
    _git(user, env, "add", "-A")

    blocked = _run(["git", "commit", "-m", "broken model"], user, env)
    output = blocked.stdout + blocked.stderr
    assert blocked.returncode != 0, output
    assert "DPL001" in output
    assert _run(["git", "rev-parse", "--verify", "HEAD"], user, env).returncode != 0  # nothing committed

    # The hook environment (pre-commit's cache; try-repo uses a throwaway one) holds dp-lint
    # and its core dependencies only.
    site_packages = list((tmp_path / "pre-commit-cache").glob("repo*/py_env-*/lib/python*/site-packages"))
    assert site_packages, sorted(p.name for p in (tmp_path / "pre-commit-cache").iterdir())
    installed = {p.name.lower() for p in site_packages[0].iterdir()}
    assert {"dp_lint", "libcst", "click", "rich", "pathspec"} <= installed
    assert "torch" not in installed and "opacus" not in installed

    # dp-lint-fix has rewritten the model; staging its fix lets the commit through.
    _git(user, env, "add", "-A")
    committed = _run(["git", "commit", "-m", "fixed model"], user, env)
    assert committed.returncode == 0, committed.stdout + committed.stderr

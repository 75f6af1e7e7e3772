""".gitignore, `exclude`/`extend-exclude` and `--force-exclude` in file discovery."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from test_cli import FLAGGED, invoke, project, use_rules, write  # noqa: F401 - fixtures

from dp_lint.config.settings import ConfigResolver, Overrides
from dp_lint.files.discovery import discover, is_excluded

KNOWN = ["DPL000", "DPL101", "DPL900"]


def touch(path: Path, text: str = "x = 1\n") -> Path:
    return write(path, text)


def found(root: Path, *paths, **kwargs) -> list[str]:
    resolver = kwargs.pop("resolver", None) or ConfigResolver(known=KNOWN)
    files = discover([*paths] or [root], resolver=resolver, **kwargs)
    return [p.relative_to(root).as_posix() for p in files]


@pytest.fixture
def repo(tmp_path):
    root = tmp_path / "repo"
    (root / ".git").mkdir(parents=True)
    return root


# --- .gitignore --------------------------------------------------------------------


def test_gitignore_in_a_repository(repo):
    touch(repo / ".gitignore", "generated/\n*_pb2.py\n/scratch.py\n")
    touch(repo / "keep.py")
    touch(repo / "scratch.py")
    touch(repo / "sub" / "scratch.py")
    touch(repo / "generated" / "model.py")
    touch(repo / "sub" / "msg_pb2.py")

    assert found(repo) == ["keep.py", "sub/scratch.py"]


def test_nested_gitignore_and_negation(repo):
    touch(repo / ".gitignore", "*.py\n!keep*.py\n")
    touch(repo / "pkg" / ".gitignore", "!local.py\nkeep_not.py\n")
    touch(repo / "a.py")
    touch(repo / "keep_a.py")
    touch(repo / "pkg" / "local.py")
    touch(repo / "pkg" / "other.py")
    touch(repo / "pkg" / "keep_not.py")

    assert found(repo) == ["keep_a.py", "pkg/local.py"]


def test_gitignore_of_an_ignored_folder_cannot_reinclude(repo):
    touch(repo / ".gitignore", "out/\n")
    touch(repo / "out" / ".gitignore", "!*.py\n")
    touch(repo / "out" / "m.py")

    assert found(repo) == []


def test_git_info_exclude(repo):
    touch(repo / ".git" / "info" / "exclude", "private.py\n")
    touch(repo / "private.py")
    touch(repo / "public.py")

    assert found(repo) == ["public.py"]


def test_gitignore_outside_a_repository_is_not_read(tmp_path):
    touch(tmp_path / ".gitignore", "*.py\n")
    touch(tmp_path / "m.py")

    assert found(tmp_path) == ["m.py"]


def test_a_folder_inside_the_repository_reads_the_gitignores_above(repo):
    touch(repo / ".gitignore", "skip.py\n")
    touch(repo / "src" / "skip.py")
    touch(repo / "src" / "m.py")

    assert found(repo, repo / "src") == ["src/m.py"]


def test_gitignore_can_be_disregarded(repo):
    touch(repo / ".gitignore", "*.py\n")
    touch(repo / "m.py")

    assert found(repo, respect_gitignore=False) == ["m.py"]


def test_invalid_gitignore_lines_are_skipped(repo):
    touch(repo / ".gitignore", "\\\nskip.py\n")
    touch(repo / "skip.py")
    touch(repo / "m.py")

    assert found(repo) == ["m.py"]


def test_real_git_repository(tmp_path):
    repo = tmp_path / "real"
    repo.mkdir()
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    touch(repo / ".gitignore", "ignored/\n")
    touch(repo / "ignored" / "m.py")
    touch(repo / "m.py")

    assert found(repo) == ["m.py"]


# --- exclude / extend-exclude -------------------------------------------------------


def test_extend_exclude_keeps_the_defaults(tmp_path):
    touch(tmp_path / "pyproject.toml", '[tool.dp-lint]\nextend-exclude = ["legacy/", "*_old.py"]\n')
    touch(tmp_path / "build" / "gen.py")
    touch(tmp_path / "legacy" / "a.py")
    touch(tmp_path / "src" / "net_old.py")
    touch(tmp_path / "src" / "net.py")

    assert found(tmp_path) == ["src/net.py"]


def test_exclude_replaces_the_defaults(tmp_path):
    touch(tmp_path / "pyproject.toml", '[tool.dp-lint]\nexclude = ["/src/skip.py"]\n')
    touch(tmp_path / "build" / "gen.py")
    touch(tmp_path / "src" / "skip.py")
    touch(tmp_path / "other" / "src" / "skip.py")

    assert found(tmp_path) == ["build/gen.py", "other/src/skip.py"]


def test_exclude_is_relative_to_the_configuration_file(tmp_path):
    touch(tmp_path / "pyproject.toml", '[tool.dp-lint]\nextend-exclude = ["/pkg/gen"]\n')
    touch(tmp_path / "pkg" / "gen" / "a.py")
    touch(tmp_path / "pkg" / "src" / "gen" / "b.py")

    assert found(tmp_path, tmp_path / "pkg") == ["pkg/src/gen/b.py"]


def test_nested_configuration_excludes_below_it(tmp_path):
    touch(tmp_path / "pyproject.toml", '[tool.dp-lint]\nextend-exclude = ["a.py"]\n')
    touch(tmp_path / "sub" / "pyproject.toml", '[tool.dp-lint]\nextend-exclude = ["b.py"]\n')
    for folder in (tmp_path, tmp_path / "sub"):
        touch(folder / "a.py")
        touch(folder / "b.py")

    assert found(tmp_path) == ["b.py", "sub/a.py"]


def test_command_line_exclusions(tmp_path):
    touch(tmp_path / "a.py")
    touch(tmp_path / "b.py")
    touch(tmp_path / "build" / "c.py")

    extended = ConfigResolver(overrides=Overrides(extend_exclude=("a.py",)), known=KNOWN)
    assert found(tmp_path, resolver=extended) == ["b.py"]
    replaced = ConfigResolver(overrides=Overrides(exclude=("b.py",)), known=KNOWN)
    assert found(tmp_path, resolver=replaced) == ["a.py", "build/c.py"]


def test_virtual_environments_are_always_skipped(tmp_path):
    touch(tmp_path / "pyproject.toml", "[tool.dp-lint]\nexclude = []\n")
    touch(tmp_path / "env" / "pyvenv.cfg", "home = /usr\n")
    touch(tmp_path / "env" / "lib" / "m.py")
    touch(tmp_path / "m.py")

    assert found(tmp_path) == ["m.py"]


# --- paths named on the command line ------------------------------------------------


def test_explicit_paths_are_checked_unless_force_exclude(repo):
    touch(repo / ".gitignore", "ignored.py\n")
    touch(repo / "pyproject.toml", '[tool.dp-lint]\nextend-exclude = ["legacy/"]\n')
    ignored = touch(repo / "ignored.py")
    legacy = touch(repo / "legacy" / "old.py")
    built = touch(repo / "build" / "gen.py")
    keep = touch(repo / "src" / "keep.py")
    paths = [ignored, legacy, built, keep]

    assert found(repo, *paths) == ["build/gen.py", "ignored.py", "legacy/old.py", "src/keep.py"]
    assert found(repo, *paths, force_exclude=True) == ["src/keep.py"]


def test_force_exclude_on_an_excluded_folder(repo):
    touch(repo / "build" / "gen.py")

    assert found(repo, repo / "build") == ["build/gen.py"]
    assert found(repo, repo / "build", force_exclude=True) == []


def test_an_explicit_excluded_folder_is_walked_as_a_root(tmp_path):
    touch(tmp_path / "pyproject.toml", "[tool.dp-lint]\n")
    touch(tmp_path / "build" / "gen.py")
    touch(tmp_path / "build" / "__pycache__" / "c.py")
    touch(tmp_path / "build" / "build" / "deeper.py")

    assert found(tmp_path, tmp_path / "build") == ["build/gen.py"]


def test_is_excluded_for_a_file_that_does_not_exist(tmp_path):
    touch(tmp_path / "pyproject.toml", '[tool.dp-lint]\nextend-exclude = ["gen/"]\n')
    resolver = ConfigResolver(known=KNOWN)

    assert is_excluded(tmp_path / "gen" / "x.py", resolver)
    assert not is_excluded(tmp_path / "src" / "x.py", resolver)


# --- through the CLI -----------------------------------------------------------------


def test_check_with_force_exclude_like_pre_commit(use_rules, project):
    (project / ".git").mkdir()
    write(project / ".gitignore", "ignored.py\n")
    write(project / "ignored.py", FLAGGED)
    write(project / "build" / "gen.py", FLAGGED)
    write(project / "m.py", FLAGGED)

    plain = invoke("check", "ignored.py", "build/gen.py", "m.py", "--select", "DPL101")
    forced = invoke("check", "ignored.py", "build/gen.py", "m.py", "--select", "DPL101", "--force-exclude")

    assert [line.split(":")[0] for line in plain.stdout.splitlines()[:-1]] == ["build/gen.py", "ignored.py", "m.py"]
    assert [line.split(":")[0] for line in forced.stdout.splitlines()[:-1]] == ["m.py"]


def test_check_with_everything_excluded_warns(use_rules, project):
    write(project / "build" / "gen.py", FLAGGED)

    result = invoke("check", "build/gen.py", "--force-exclude")

    assert result.exit_code == 0
    assert "no Python files found" in result.stderr


def test_check_exclude_options(use_rules, project):
    write(project / "a.py", FLAGGED)
    write(project / "b" / "c.py", FLAGGED)

    result = invoke("check", "--select", "DPL101", "--extend-exclude", "b/", "--output-format", "concise")

    assert [line.split(":")[0] for line in result.stdout.splitlines()[:-1]] == ["a.py"]

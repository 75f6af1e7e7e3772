import os
from pathlib import Path

import pytest

from dp_lint.files.discovery import UsageError, discover, module_name_for


def touch(path: Path, text: str = "x = 1\n") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def relative(paths, root: Path) -> list[str]:
    return [p.relative_to(root).as_posix() for p in paths]


def test_walks_folders_for_python_files_sorted(tmp_path):
    touch(tmp_path / "b.py")
    touch(tmp_path / "a.py")
    touch(tmp_path / "pkg" / "__init__.py")
    touch(tmp_path / "pkg" / "z" / "m.py")
    touch(tmp_path / "notes.txt")
    touch(tmp_path / "stub.pyi")

    found = discover([tmp_path])

    assert relative(found, tmp_path) == ["a.py", "b.py", "pkg/__init__.py", "pkg/z/m.py"]
    assert all(p.is_absolute() for p in found)


@pytest.mark.parametrize(
    "folder",
    [
        ".git", ".hg", ".svn", "__pycache__", ".venv", "venv", "build", "dist", ".tox",
        ".nox", ".mypy_cache", ".pytest_cache", ".ruff_cache", "node_modules",
        "site-packages", "dp_lint.egg-info",
    ],
)
def test_skips_tooling_and_build_folders(tmp_path, folder):
    touch(tmp_path / "keep.py")
    touch(tmp_path / folder / "skipped.py")
    touch(tmp_path / "src" / folder / "deep" / "skipped.py")

    assert relative(discover([tmp_path]), tmp_path) == ["keep.py"]


@pytest.mark.parametrize("folder", ["env", ".env", "py311"])
def test_skips_any_virtual_environment(tmp_path, folder):
    touch(tmp_path / folder / "pyvenv.cfg", "home = /usr/bin\n")
    touch(tmp_path / folder / "lib" / "mod.py")
    touch(tmp_path / "keep.py")

    assert relative(discover([tmp_path]), tmp_path) == ["keep.py"]


def test_a_plain_folder_named_env_is_walked(tmp_path):
    touch(tmp_path / "env" / "settings.py")

    assert relative(discover([tmp_path]), tmp_path) == ["env/settings.py"]


def test_explicit_files_are_taken_whatever_their_extension(tmp_path):
    script = touch(tmp_path / "train_script")
    text = touch(tmp_path / "model.txt")

    assert discover([script, text]) == sorted([script, text])


def test_explicit_skipped_folder_is_still_walked(tmp_path):
    touch(tmp_path / "build" / "gen.py")
    touch(tmp_path / "build" / "__pycache__" / "cached.py")

    assert relative(discover([tmp_path / "build"]), tmp_path) == ["build/gen.py"]


def test_duplicates_are_removed(tmp_path):
    a = touch(tmp_path / "a.py")
    found = discover([tmp_path, a, str(a), tmp_path / "." / "a.py"])

    assert found == [a]


def test_relative_paths_become_absolute(tmp_path, monkeypatch):
    touch(tmp_path / "pkg" / "a.py")
    monkeypatch.chdir(tmp_path)

    assert discover(["pkg", "./pkg/a.py"]) == [tmp_path / "pkg" / "a.py"]


def test_symlinked_file_is_checked_once(tmp_path):
    real = touch(tmp_path / "real.py")
    (tmp_path / "alias.py").symlink_to(real)

    assert len(discover([tmp_path])) == 1


def test_symlinked_folder_loop_terminates(tmp_path):
    touch(tmp_path / "pkg" / "m.py")
    (tmp_path / "pkg" / "loop").symlink_to(tmp_path, target_is_directory=True)

    assert relative(discover([tmp_path]), tmp_path) == ["pkg/m.py"]


def test_symlinked_folder_outside_the_tree_is_followed(tmp_path):
    touch(tmp_path / "elsewhere" / "m.py")
    (tmp_path / "tree").mkdir()
    (tmp_path / "tree" / "linked").symlink_to(tmp_path / "elsewhere", target_is_directory=True)

    assert relative(discover([tmp_path / "tree"]), tmp_path) == ["tree/linked/m.py"]


def test_missing_path_is_a_usage_error(tmp_path):
    touch(tmp_path / "a.py")

    with pytest.raises(UsageError, match="does not exist: .*nope"):
        discover([tmp_path, tmp_path / "nope"])


def test_all_missing_paths_are_named(tmp_path):
    with pytest.raises(UsageError) as raised:
        discover([tmp_path / "one", tmp_path / "two"])

    assert "one" in str(raised.value) and "two" in str(raised.value)


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root can list any folder")
def test_unlistable_folder_is_reported_and_skipped(tmp_path):
    touch(tmp_path / "keep.py")
    locked = tmp_path / "locked"
    touch(locked / "hidden.py")
    locked.chmod(0)
    errors = []
    try:
        found = discover([tmp_path], on_error=lambda path, exc: errors.append(path))
    finally:
        locked.chmod(0o755)

    assert relative(found, tmp_path) == ["keep.py"]
    assert errors == [locked]


def test_unlistable_folder_simulated(tmp_path, monkeypatch):
    touch(tmp_path / "keep.py")
    touch(tmp_path / "locked" / "hidden.py")
    real_scandir = os.scandir

    def scandir(path):
        if Path(path).name == "locked":
            raise PermissionError(13, "Permission denied")
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    errors = []

    found = discover([tmp_path], on_error=lambda path, exc: errors.append(path))

    assert relative(found, tmp_path) == ["keep.py"]
    assert errors == [tmp_path / "locked"]


# --- module_name_for ---------------------------------------------------------------


def test_module_name_inside_nested_packages(tmp_path):
    touch(tmp_path / "proj" / "pkg" / "__init__.py")
    touch(tmp_path / "proj" / "pkg" / "models" / "__init__.py")
    net = touch(tmp_path / "proj" / "pkg" / "models" / "net.py")

    assert module_name_for(net) == "pkg.models.net"
    assert module_name_for(tmp_path / "proj" / "pkg" / "models" / "__init__.py") == "pkg.models"
    assert module_name_for(tmp_path / "proj" / "pkg" / "__init__.py") == "pkg"


def test_module_name_of_a_lone_script(tmp_path):
    assert module_name_for(touch(tmp_path / "train.py")) == "train"


def test_module_name_stops_at_a_folder_without_init(tmp_path):
    touch(tmp_path / "pkg" / "__init__.py")
    touch(tmp_path / "pkg" / "scripts" / "run.py")

    assert module_name_for(tmp_path / "pkg" / "scripts" / "run.py") == "run"


def test_module_name_stops_at_a_folder_that_is_not_an_identifier(tmp_path):
    touch(tmp_path / "my-project" / "__init__.py")
    touch(tmp_path / "my-project" / "pkg" / "__init__.py")
    mod = touch(tmp_path / "my-project" / "pkg" / "mod.py")

    assert module_name_for(mod) == "pkg.mod"


def test_module_name_accepts_relative_paths(tmp_path, monkeypatch):
    touch(tmp_path / "pkg" / "__init__.py")
    touch(tmp_path / "pkg" / "mod.py")
    monkeypatch.chdir(tmp_path / "pkg")

    assert module_name_for("mod.py") == "pkg.mod"

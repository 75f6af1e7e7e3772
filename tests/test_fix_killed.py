"""`fix --apply` killed with SIGKILL at random points leaves every file either as it was or
as fixed, never partly written (dp_lint.files.textfiles.write_text_file: a temporary file
in the same folder, fsync, then a rename over the original)."""

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent

FILES = 6
LINES = 300
KILLS = 10
SEED = 15  # half the kill times are drawn from this seed; the other half kill on the first write


def original(index):
    # Every line has an unused suppression (DPL900, a safe fix): every file is rewritten.
    return "".join(f"value_{index}_{row} = {row}  # dp-lint: ignore[DPL101]\n" for row in range(LINES))


def write_project(root):
    if root.exists():
        shutil.rmtree(root)
    root.mkdir()
    for index in range(FILES):
        (root / f"module_{index}.py").write_text(original(index))


def inode(root, index):
    return (root / f"module_{index}.py").stat().st_ino


def start_fix(root):
    env = dict(os.environ, NO_COLOR="1")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    return subprocess.Popen([sys.executable, "-m", "dp_lint", "fix", "--apply", "."], cwd=root, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_fix_apply_killed_at_random_points_leaves_each_file_old_or_new(tmp_path):
    root = tmp_path / "project"
    write_project(root)
    started = time.monotonic()
    assert start_fix(root).wait(timeout=600) == 0
    duration = time.monotonic() - started
    fixed = {path.name: path.read_text() for path in root.glob("*.py")}
    assert all(text != original(0) and "dp-lint: ignore" not in text for text in fixed.values())

    rng = random.Random(SEED)
    outcomes = {"old": 0, "new": 0}
    for round_ in range(KILLS):
        write_project(root)
        inodes = [inode(root, i) for i in range(FILES)]
        process = start_fix(root)
        if round_ % 2:
            # From start-up to past the end: the later half is where files are written.
            time.sleep(rng.uniform(0.2, 1.1) * duration)
        else:
            # As soon as a first file is replaced (a rename gives it a new inode): in the
            # middle of writing the others.
            while process.poll() is None and [inode(root, i) for i in range(FILES)] == inodes:
                time.sleep(0.001)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=60)
        for index in range(FILES):
            path = root / f"module_{index}.py"
            text = path.read_text()
            if text == original(index):
                outcomes["old"] += 1
            else:
                assert text == fixed[path.name], f"{path.name} is partly written"
                outcomes["new"] += 1
        # A kill mid-write leaves at most the temporary file, which is no Python file to check.
        assert all(leftover.name.endswith(".dp-lint.tmp") for leftover in root.iterdir()
                   if not leftover.name.endswith(".py"))
    assert outcomes["old"] + outcomes["new"] == KILLS * FILES
    print("files left old, new after the kills:", outcomes)

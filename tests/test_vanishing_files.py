"""Symbolic link loops in the folders walked, broken links, and files that vanish between
discovery and reading (or writing): a clear message and a non-zero exit, never a traceback."""

import os
import subprocess
import sys
from pathlib import Path

from dp_lint.core.findings import Location
from dp_lint.lint import run as runner
from dp_lint.lint.fix_loop import run_fixes, write_fixes

REPO_ROOT = Path(__file__).resolve().parent.parent

# An unused suppression: DPL900, whose fix (removing the comment) is safe.
UNUSED = "x = 1  # dp-lint: ignore[DPL101]\n"


def dp_lint(*args, cwd):
    env = dict(os.environ, NO_COLOR="1")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    env.pop("DP_LINT_DEBUG", None)
    return subprocess.run([sys.executable, "-m", "dp_lint", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


def test_symbolic_link_loops_are_walked_once_and_named_when_given(tmp_path):
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "a.py").write_text(UNUSED)
    (pkg / "up").symlink_to("..")  # a loop through the parent
    (pkg / "self").symlink_to("../pkg")  # the folder itself again
    (pkg / "loop1.py").symlink_to("loop2.py")  # two links pointing at each other
    (pkg / "loop2.py").symlink_to("loop1.py")
    (pkg / "dangling.py").symlink_to("nowhere.py")

    result = dp_lint("check", ".", "--output-format", "concise", cwd=tmp_path)

    assert result.returncode == 1
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr
    lines = sorted(result.stdout.splitlines()[:-2])
    assert lines == [
        "pkg/a.py:1:8: DPL900 [*] Unused suppression `# dp-lint: ignore[DPL101]`: no DPL101 finding on this line.",
        "pkg/dangling.py:1:1: DPL000 cannot read file: broken symbolic link (to nowhere.py)",
        "pkg/loop1.py:1:1: DPL000 cannot read file: symbolic link loop",
        "pkg/loop2.py:1:1: DPL000 cannot read file: symbolic link loop",
    ]


def test_a_file_removed_between_discovery_and_reading_is_dpl000_and_the_rest_is_checked(tmp_path):
    (tmp_path / "a.py").write_text(UNUSED)
    (tmp_path / "b.py").write_text(UNUSED)

    def remove_b(stage, done, total):
        if stage == "parse" and done == 0:
            (tmp_path / "b.py").unlink()

    run = runner.run(runner.Request(paths=[tmp_path]), progress=remove_b)

    found = sorted((f.path.name, f.code, f.message) for f in run.findings)
    assert found == [
        ("a.py", "DPL900", "Unused suppression `# dp-lint: ignore[DPL101]`: no DPL101 finding on this line."),
        ("b.py", "DPL000", "cannot read file: No such file or directory"),
    ]
    assert not run.internal_errors


def test_a_file_removed_before_fix_writes_it_is_a_problem_and_the_rest_is_written(tmp_path):
    (tmp_path / "a.py").write_text(UNUSED)
    (tmp_path / "b.py").write_text(UNUSED)
    report = run_fixes(runner.Request(paths=[tmp_path]))
    (tmp_path / "b.py").unlink()

    problems = write_fixes(report)

    assert problems == [f"{tmp_path / 'b.py'}: cannot read it again before writing (No such file or directory); not written"]
    assert (tmp_path / "a.py").read_text() == "x = 1\n"
    assert not (tmp_path / "b.py").exists()
    assert [f.location for f in report.fixed if f.path.name == "a.py"] == [Location(1, 8)]

"""dp-lint against a bare parse (and, when installed, TorchFix and Fixit) on the same files.

    python benchmarks/compare.py [TARGET] [--bench-venv /work/venv-bench] [--files 300]

TARGET (default: the installed torch's `torch/nn`) is copied to a temporary folder first, so
that the cache `check` writes at the project root never lands in site-packages, and every
tool reads the same files. One run measures, each as a child process (interpreter start-up
included, as a user sees it):

- `libcst.parse_module` over every file, in one process: the floor;
- `dp-lint check --no-cache` (cold) and `dp-lint check` twice (the second run is warm:
  the cache was filled by the first);
- `dp-lint check one_file.py` inside a generated 300-file project (the generator of
  check_one_file.py), cold and warm;
- `torchfix` and `fixit lint`, only when found in `--bench-venv` (a side venv: never
  installed next to dp-lint).

It prints the wall time and the peak memory (max RSS, from the child's rusage as
`os.wait4` returns it, the same figure `resource.getrusage(RUSAGE_CHILDREN)` accumulates)
of each, and their ratios, all from the same run. Always exits 0: it measures.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from check_one_file import generate  # noqa: E402

PARSE = """
import sys
from pathlib import Path
import libcst as cst
from dp_lint.files.source import decode_source
parsed = 0
for path in sorted(Path(sys.argv[1]).rglob("*.py")):
    try:
        cst.parse_module(decode_source(path.read_bytes()))
        parsed += 1
    except Exception:
        pass
print(parsed, "files parsed")
"""


def measure(command: list[str], cwd: Path) -> tuple[float, float, int]:
    """(seconds, peak RSS in MiB, exit status) of one child process."""
    start = time.perf_counter()
    child = subprocess.Popen(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - start
    child.returncode = os.waitstatus_to_exitcode(status)
    # ru_maxrss is in KiB on Linux
    return seconds, usage.ru_maxrss / 1024, child.returncode


def default_target() -> Path:
    import importlib.util

    spec = importlib.util.find_spec("torch")
    if spec is None or spec.origin is None:
        raise SystemExit("torch is not installed: pass a TARGET folder")
    return Path(spec.origin).parent / "nn"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("target", nargs="?", type=Path, help="folder to check (default: torch/nn)")
    parser.add_argument("--bench-venv", type=Path, help="a venv holding torchfix and/or fixit")
    parser.add_argument("--files", type=int, default=300, help="files of the generated project")
    args = parser.parse_args()
    python = sys.executable
    repo = HERE.parent
    rows: list[tuple[str, float, float, int]] = []

    def row(name: str, command: list[str], cwd: Path = repo) -> float:
        seconds, peak, status = measure(command, cwd)
        rows.append((name, seconds, peak, status))
        return seconds

    with tempfile.TemporaryDirectory() as folder:
        source = (args.target or default_target()).resolve()
        target = Path(folder) / "target"
        shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__", ".dp_lint_cache"))
        count = len(list(target.rglob("*.py")))
        print(f"target: {source} ({count} Python files, copied to a temporary folder)")
        parse = row("libcst parse (1 process)", [python, "-c", PARSE, str(target)])
        cold = row("dp-lint check --no-cache", [python, "-m", "dp_lint", "check", "--exit-zero", "--no-cache",
                                                 str(target)])
        row("dp-lint check (fills cache)", [python, "-m", "dp_lint", "check", "--exit-zero", str(target)])
        warm = row("dp-lint check (warm)", [python, "-m", "dp_lint", "check", "--exit-zero", str(target)])

        project = Path(folder) / "project"
        project.mkdir()
        one_file = generate(project, args.files)
        one_cold = row(f"check 1 of {args.files} files, cold",
                       [python, "-m", "dp_lint", "check", "--exit-zero", "--no-cache", str(one_file)])
        row(f"check 1 of {args.files} files (fills)", [python, "-m", "dp_lint", "check", "--exit-zero", str(one_file)])
        one_warm = row(f"check 1 of {args.files} files, warm",
                       [python, "-m", "dp_lint", "check", "--exit-zero", str(one_file)])

        others: dict[str, float] = {}
        if args.bench_venv is not None:
            bin_dir = args.bench_venv / "bin"
            if (bin_dir / "torchfix").exists():
                others["torchfix"] = row("torchfix", [str(bin_dir / "torchfix"), str(target)], target)
            if (bin_dir / "fixit").exists():
                others["fixit"] = row("fixit lint", [str(bin_dir / "fixit"), "lint", str(target)], target)
            if not others:
                print(f"neither torchfix nor fixit found in {bin_dir}")

    print(f"{'measurement':38} {'seconds':>8} {'peak MiB':>9} {'exit':>5}")
    for name, seconds, peak, status in rows:
        print(f"{name:38} {seconds:8.3f} {peak:9.1f} {status:5d}")
    print("ratios (same run):")
    print(f"  cold check / parse:        {cold / parse:6.2f}")
    print(f"  warm check / parse:        {warm / parse:6.2f}")
    print(f"  warm / cold check:         {warm / cold:6.2f}")
    print(f"  one file warm / cold:      {one_warm / one_cold:6.2f}")
    for name, seconds in others.items():
        print(f"  cold check / {name}:{' ' * (13 - len(name))}{cold / seconds:6.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""How much slower is `dp-lint check` than just parsing the same files with libcst?

    python benchmarks/check_speed.py [FOLDER] [--repeat N]

FOLDER defaults to the `nn` package of the installed torch (about 100 files of real
model code). Both measurements read and decode every file; `check` then runs every
rule of the catalogue. The best of N runs of each is reported; the goal is a ratio
of at most 2.0 (see benchmarks/README.md). Always exits 0: this is a measurement,
not a test.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import time
from pathlib import Path

import libcst as cst

# Run from a checkout without installing: make `dp_lint` importable.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from dp_lint.files.discovery import discover
from dp_lint.files.source import SourceError, decode_source
from dp_lint.lint import check as engine

GOAL_RATIO = 2.0


def default_target() -> Path:
    # find_spec locates torch without importing it (importing torch takes seconds).
    spec = importlib.util.find_spec("torch")
    if spec is None or not spec.submodule_search_locations:
        sys.exit("torch is not installed: pass a folder to benchmark")
    return Path(list(spec.submodule_search_locations)[0]) / "nn"


def parse_only(files: list[Path]) -> int:
    parsed = 0
    for path in files:
        try:
            cst.parse_module(decode_source(path.read_bytes()))
            parsed += 1
        except (OSError, SourceError, cst.ParserSyntaxError):
            pass
    return parsed


def best_time(function, repeat: int):
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = function()
        best = min(best, time.perf_counter() - start)
    return best, result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folder", nargs="?", type=Path, help="folder to check (default: torch/nn)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each measurement; the best counts")
    args = parser.parse_args()

    folder = args.folder or default_target()
    files = discover([folder])
    print(f"target: {folder} ({len(files)} files)")

    parse_seconds, parsed = best_time(lambda: parse_only(files), args.repeat)
    check_seconds, result = best_time(lambda: engine.check_files(files), args.repeat)

    ratio = check_seconds / parse_seconds if parse_seconds else float("inf")
    print(f"libcst.parse_module: {parse_seconds:8.3f} s  ({parsed} files parsed)")
    print(f"dp-lint check:       {check_seconds:8.3f} s  ({len(result.findings)} findings)")
    verdict = "met" if ratio <= GOAL_RATIO else "NOT met"
    print(f"ratio check/parse:   {ratio:8.2f}    (goal <= {GOAL_RATIO}: {verdict})")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""What does checking one file cost inside a large project?

    python benchmarks/check_one_file.py [--files N] [--repeat N]

`dp-lint check one_file.py` (what pre-commit and editors run) analyses the file with its
project around it: it finds the project root, walks the project for its Python files,
parses each once and builds the project index, and reports only on the file asked for.
This generates a project of N files (default 300: a package of model modules, each with
a few `nn.Module` classes and helpers, and a training script calling `make_private`),
then measures, best of N runs each:

- `check one_file.py`: one model file, with the whole project as context;
- `check .`: the whole project;
- `libcst.parse_module` over every file of the project: the floor for both.

Always exits 0: this is a measurement, not a test.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import libcst as cst

# Run from a checkout without installing: make `dp_lint` importable.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from dp_lint.files.source import SourceError, decode_source
from dp_lint.lint import run as runner

MODEL_MODULE = '''\
"""Model module {index} of a generated project."""
import torch
import torch.nn as nn
import torch.nn.functional as F

from proj.layers.common import conv_block


def make_head(dim, classes={classes}):
    return nn.Sequential(nn.Linear(dim, dim), nn.ReLU(), nn.Linear(dim, classes))


class Encoder{index}(nn.Module):
    def __init__(self, channels=3, width={width}):
        super().__init__()
        self.stem = conv_block(channels, width)
        self.body = nn.Sequential(
            nn.Conv2d(width, width, 3, padding=1),
            nn.GroupNorm(4, width),
            nn.ReLU(),
        )
        self.pool = nn.AdaptiveAvgPool2d(1)

    def forward(self, x):
        x = self.body(self.stem(x))
        return torch.flatten(self.pool(x), 1)


class Classifier{index}(nn.Module):
    def __init__(self, classes={classes}):
        super().__init__()
        self.encoder = Encoder{index}()
        self.head = make_head({width}, classes)
        self.dropout = nn.Dropout(0.1)

    def forward(self, x):
        features = self.encoder(x)
        return self.head(self.dropout(features))

    def loss(self, x, y):
        return F.cross_entropy(self(x), y)
'''

LAYERS = '''\
import torch.nn as nn


def conv_block(cin, cout):
    return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1), nn.GroupNorm(4, cout), nn.ReLU())
'''

TRAIN = '''\
import torch
from opacus import PrivacyEngine

from proj.models.model_0000 import Classifier0


def train(loader, epochs=1):
    model = Classifier0()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    engine = PrivacyEngine()
    model, optimizer, loader = engine.make_private(
        module=model, optimizer=optimizer, data_loader=loader, noise_multiplier=1.0, max_grad_norm=1.0,
    )
    for _ in range(epochs):
        for x, y in loader:
            optimizer.zero_grad()
            model.loss(x, y).backward()
            optimizer.step()
'''


def generate(root: Path, count: int) -> Path:
    """A project of `count` Python files; returns the model file to check alone."""
    (root / "pyproject.toml").write_text("[project]\nname = \"proj\"\n\n[tool.dp-lint]\n", encoding="utf-8")
    package = root / "proj"
    for folder in (package, package / "layers", package / "models", root / "scripts"):
        folder.mkdir(parents=True, exist_ok=True)
    written = 0
    for path, text in ((package / "__init__.py", ""), (package / "layers" / "__init__.py", ""),
                       (package / "layers" / "common.py", LAYERS), (package / "models" / "__init__.py", ""),
                       (root / "scripts" / "train.py", TRAIN)):
        path.write_text(text, encoding="utf-8")
        written += 1
    for index in range(max(count - written, 1)):
        text = MODEL_MODULE.format(index=index, width=8 * (1 + index % 4), classes=2 + index % 8)
        (package / "models" / f"model_{index:04d}.py").write_text(text, encoding="utf-8")
    return package / "models" / "model_0000.py"


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
    parser.add_argument("--files", type=int, default=300, help="Python files in the generated project")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each measurement; the best counts")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        one_file = generate(root, args.files)
        files = sorted(root.rglob("*.py"))
        print(f"generated project: {len(files)} files; checking {one_file.relative_to(root)} alone")

        parse_seconds, _ = best_time(lambda: parse_only(files), args.repeat)
        one_seconds, one = best_time(lambda: runner.run(runner.Request(paths=[one_file])), args.repeat)
        all_seconds, whole = best_time(lambda: runner.run(runner.Request(paths=[root])), args.repeat)
        context = sum(len(p.context) for p in one.projects)

        print(f"libcst.parse_module, every file: {parse_seconds:8.3f} s")
        print(f"dp-lint check one_file.py:       {one_seconds:8.3f} s  "
              f"({len(one.findings)} findings, {context} context files)")
        print(f"dp-lint check .:                 {all_seconds:8.3f} s  ({len(whole.findings)} findings)")
        print(f"ratio one file / parse:          {one_seconds / parse_seconds:8.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

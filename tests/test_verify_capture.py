"""`dp-lint verify --run`: capture mode under real Opacus (CPU).

The user's own training script runs in the child until its private model's first training
forward pass; the real model is then checked on that real batch with the engine's settings.
"""

from __future__ import annotations

import json
import os
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner
from runtime_cases import require_opacus

require_opacus()

from dp_lint.cli import main  # noqa: E402
from dp_lint.verify.runtime.capture import CaptureFailed, parse_command  # noqa: E402

HEADER = textwrap.dedent("""
    import argparse
    import sys

    import torch
    from torch import nn
    from torch.utils.data import DataLoader, TensorDataset
    from opacus import PrivacyEngine
""")

TRAIN_LOOP = textwrap.dedent("""
    def train(model, loader, optimizer, epochs):
        for _ in range(epochs):
            for x, y in loader:
                optimizer.zero_grad()
                out = model(x)
                loss = out.pow(2).mean()
                loss.backward()
                optimizer.step()
        print("TRAINED")
""")


def script(tmp_path: Path, body: str, name: str = "train.py") -> Path:
    path = tmp_path / name
    path.write_text(HEADER + TRAIN_LOOP + textwrap.dedent(body), encoding="utf-8")
    return path


def verify(tmp_path: Path, *args: str) -> tuple[int, list[dict]]:
    old = os.getcwd()
    try:
        os.chdir(tmp_path)
        result = CliRunner().invoke(main, ["verify", *args, "--output-format", "json"], catch_exceptions=False)
    finally:
        os.chdir(old)
    return result.exit_code, json.loads(result.stdout)


SIMSIAM = """
    class SimSiam(nn.Module):
        def __init__(self, dim):
            super().__init__()
            self.encoder = nn.Sequential(nn.Linear(dim, 32), nn.ReLU(), nn.Linear(32, 8))
            self.predictor = nn.Linear(8, 8)

        def forward(self, x):
            z1 = self.encoder(x)
            z2 = self.encoder(x + 0.1).detach()
            return self.predictor(z1) - z2


    class Config:
        dim = 12


    def build(cfg):
        return SimSiam(cfg.dim)
"""

MAIN = """
    if __name__ == "__main__":
        parser = argparse.ArgumentParser()
        parser.add_argument("--epochs", type=int, default=100)
        parser.add_argument("--batch-size", type=int, default=16)
        args = parser.parse_args()
        loader = DataLoader(TensorDataset(torch.randn(64, 12), torch.zeros(64)), batch_size=args.batch_size)
        model = {model}
        optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
        model, optimizer, loader = PrivacyEngine().make_private(
            module=model, optimizer=optimizer, data_loader=loader, noise_multiplier=1.0, max_grad_norm=1.0,
            poisson_sampling={poisson},
        )
        train(model, loader, optimizer, args.epochs)
"""


def test_capture_builds_the_real_model_of_a_factory_with_a_config_object(tmp_path):
    script(tmp_path, SIMSIAM + MAIN.format(model="build(Config())", poisson=True))

    status, (verdict,) = verify(tmp_path, "--run", "python train.py --epochs 1")

    assert status == 1
    assert verdict["verdict"] == "crash" and "Per sample gradient is not initialized" in verdict["error"]
    assert verdict["built_by"] == "capture" and verdict["origin"] == "capture"
    # The script's own batch (a Poisson-sampled one: its size varies around 16), not a guess.
    (shape,) = verdict["inputs"]
    assert shape.startswith("float32[") and shape.endswith(", 12]")
    settings = verdict["settings"]
    assert settings["batch_first"] is True and settings["max_grad_norm"] == 1.0
    assert settings["poisson_sampling"] is True and settings["noise_multiplier"] == 1.0
    assert "TRAINED" not in (verdict["output"] or "")  # stopped before any training step


def test_capture_of_a_correct_script_is_ok_and_uses_the_script_arguments(tmp_path):
    script(tmp_path, MAIN.format(model="nn.Sequential(nn.Linear(12, 8), nn.ReLU(), nn.Linear(8, 3))", poisson=False))

    status, (verdict,) = verify(tmp_path, "--run", "python train.py --batch-size 7")

    assert status == 0, verdict
    assert verdict["verdict"] == "ok"
    assert verdict["inputs"] == ["float32[7, 12]"]
    assert all(p["status"] == "ok" for p in verdict["parameters"])


def test_a_time_major_model_under_a_sequence_first_engine_is_ok(tmp_path):
    """Guessed inputs once put the sequence axis first for a correct model and called it silent:
    the captured batch has the layout the script really uses."""
    script(tmp_path, """
        from opacus.layers import DPLSTM


        class Tagger(nn.Module):
            def __init__(self):
                super().__init__()
                self.rnn = DPLSTM(6, 10)
                self.head = nn.Linear(10, 4)

            def forward(self, x):  # x: [T, B, 6]
                out, _ = self.rnn(x)
                return self.head(out)


        def time_major(batch):
            xs = torch.stack([b[0] for b in batch], dim=1)
            return xs, torch.zeros(xs.shape[1])


        if __name__ == "__main__":
            loader = DataLoader(TensorDataset(torch.randn(40, 9, 6), torch.zeros(40)), batch_size=8,
                                collate_fn=time_major)
            model = Tagger()
            optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
            model, optimizer, loader = PrivacyEngine().make_private(
                module=model, optimizer=optimizer, data_loader=loader, noise_multiplier=1.0, max_grad_norm=1.0,
                batch_first=False, poisson_sampling=False,
            )
            train(model, loader, optimizer, 1)
    """)

    status, (verdict,) = verify(tmp_path, "--run", "python train.py")

    assert verdict["verdict"] == "ok", verdict
    assert verdict["settings"]["batch_first"] is False
    assert verdict["inputs"] == ["float32[9, 8, 6]"]
    assert status == 0


def test_a_configured_run_table_is_verified_without_arguments(tmp_path):
    script(tmp_path, SIMSIAM + MAIN.format(model="build(Config())", poisson=True))
    (tmp_path / "pyproject.toml").write_text('[tool.dp-lint]\n[[tool.dp-lint.verify]]\nrun = "python train.py --epochs 1"\n')

    status, verdicts = verify(tmp_path)

    assert [v["target"] for v in verdicts if v["built_by"] == "capture"] == ["run: python train.py --epochs 1"]
    assert any(v["verdict"] == "crash" and v["built_by"] == "capture" for v in verdicts)
    assert status == 1


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("import sys\nsys.exit(3)\n", "exited (status 3) without calling make_private"),
        ("raise RuntimeError('cannot download the data set: no network')\n",
         "RuntimeError: cannot download the data set: no network"),
        ("print('x' * 5_000_000)\n", "finished without calling make_private"),
    ],
    ids=["exits", "fails-to-load-data", "prints-megabytes"],
)
def test_scripts_that_end_before_the_engine_get_cannot_build_with_the_reason(tmp_path, body, expected):
    (tmp_path / "train.py").write_text(body, encoding="utf-8")

    status, (verdict,) = verify(tmp_path, "--run", "python train.py")

    assert verdict["verdict"] == "cannot-build"
    assert expected in verdict["error"]
    assert 'run = "python train.py"' in verdict["config_hint"]
    assert status == 3


def test_a_script_failing_after_the_engine_call_says_where(tmp_path):
    script(tmp_path, """
        if __name__ == "__main__":
            model = nn.Linear(12, 2)
            optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
            loader = DataLoader(TensorDataset(torch.randn(8, 12)), batch_size=4)
            model, optimizer, loader = PrivacyEngine().make_private(
                module=model, optimizer=optimizer, data_loader=loader, noise_multiplier=1.0, max_grad_norm=1.0)
            raise ValueError("a bug before the loop")
    """)

    status, (verdict,) = verify(tmp_path, "--run", "python train.py")

    assert verdict["verdict"] == "cannot-build"
    assert "after make_private but before" in verdict["error"] and "ValueError: a bug before the loop" in verdict["error"]
    assert "train.py:" in verdict["error"]  # the user's frame


def test_a_hanging_script_is_stopped_by_the_time_limit(tmp_path):
    (tmp_path / "train.py").write_text("import time\nwhile True:\n    time.sleep(1)\n", encoding="utf-8")

    status, (verdict,) = verify(tmp_path, "--run", "python train.py", "--timeout", "3")

    assert verdict["verdict"] == "error" and "timed out after 3 s" in verdict["error"]
    assert status == 3


def test_a_module_entry_point_runs_with_dash_m(tmp_path):
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("")
    script(tmp_path / "pkg", MAIN.format(model="nn.Linear(12, 3)", poisson=False), name="train.py")

    status, (verdict,) = verify(tmp_path, "--run", "python -m pkg.train --epochs 1")

    assert verdict["verdict"] == "ok", verdict
    assert status == 0


def test_command_parsing():
    assert parse_command(["python", "-u", "train.py", "--lr", "1"]) == ("path", "train.py", ["train.py", "--lr", "1"])
    assert parse_command(["python3", "-m", "pkg.train", "-x"]) == ("module", "pkg.train", ["pkg.train", "-x"])
    assert parse_command(["train.py"]) == ("path", "train.py", ["train.py"])
    assert parse_command(["pkg/train.py:main"]) == ("function", "pkg/train.py:main", ["pkg/train.py"])
    assert parse_command(["pkg.train:main"]) == ("function", "pkg.train:main", ["pkg.train"])
    with pytest.raises(CaptureFailed, match="-c"):
        parse_command(["python", "-c", "print(1)"])
    with pytest.raises(CaptureFailed, match="neither"):
        parse_command(["bash", "run.sh"])


def test_the_table_says_how_each_model_was_built():
    from dp_lint.verify.api import ModelVerdict
    from dp_lint.verify.report import render

    verdicts = [
        ModelVerdict(target="run: python train.py", verdict="ok", origin="capture", built_by="capture"),
        ModelVerdict(target="net.py:Net", verdict="ok", origin="configuration (pyproject.toml)", built_by="config"),
    ]
    text = render(verdicts, "table", color=False, width=120)

    assert "built by capture" in text and "from capture" not in text
    assert "built by config · from configuration (pyproject.toml)" in text


FUNCTION_ENTRY = """
    def main(epochs=1):
        loader = DataLoader(TensorDataset(torch.randn(64, 12), torch.zeros(64)), batch_size=16)
        model = build(Config())
        optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
        model, optimizer, loader = PrivacyEngine().make_private(
            module=model, optimizer=optimizer, data_loader=loader, noise_multiplier=1.0, max_grad_norm=1.0,
        )
        train(model, loader, optimizer, epochs)


    def evaluate(model, loader):  # needs arguments: not an entry point
        return sum(model(x).sum() for x, _ in loader)
"""


def test_a_function_that_needs_no_argument_is_an_entry_point(tmp_path):
    """No `__main__` block: `verify` with no configuration calls `main()` (every parameter has a
    default) in capture mode, inside its package so that its absolute imports work."""
    package = tmp_path / "lab"
    package.mkdir()
    (package / "__init__.py").write_text("", encoding="utf-8")
    script(package, SIMSIAM + FUNCTION_ENTRY)
    (tmp_path / "pyproject.toml").write_text("[tool.dp-lint]\n", encoding="utf-8")

    status, (verdict,) = verify(tmp_path)

    assert verdict["target"] == "run: lab/train.py:main", verdict
    assert verdict["built_by"] == "capture"
    assert verdict["verdict"] == "crash" and "Per sample gradient is not initialized" in verdict["error"]
    assert status == 1


def test_only_the_hooks_object_of_wrap_model_false_counts_as_hooks():
    # GradSampleModule derives from AbstractGradSampleHooks: taking it for the hooks object made
    # every make_private model look like wrap_model=False (regression of the DPL214 merge).
    import torch
    from opacus import GradSampleModule

    from dp_lint.verify.runtime.capture import hooks_object

    assert not hooks_object(GradSampleModule(torch.nn.Linear(2, 2)))
    assert not hooks_object(torch.nn.Linear(2, 2))
    try:
        from opacus.grad_sample import GradSampleHooks
    except ImportError:
        pytest.skip("opacus < 1.6 has no GradSampleHooks")
    assert hooks_object(GradSampleHooks(torch.nn.Linear(2, 2)))

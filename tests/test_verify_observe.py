"""`dp-lint verify --run ... --steps N`: observe mode under real Opacus (CPU).

The user's own training loop takes N real private steps in the child; at each, the update
before noise must be bounded by the clipping, the batches must come from the loader the engine
returned, and no GradScaler may scale the per-sample gradients. Each shape below was measured
on opacus 1.6.0: the flag shapes break exactly the invariant named, the clean one none.
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

# One script, one argparse switch per mistake: the shapes of the training-script rules.
SCRIPT = textwrap.dedent("""
    import argparse
    import warnings

    import torch
    import torch.nn.functional as F
    from opacus import PrivacyEngine
    from torch import nn
    from torch.utils.data import DataLoader, TensorDataset

    warnings.filterwarnings("ignore")
    parser = argparse.ArgumentParser()
    parser.add_argument("--mode", default="ok")
    args = parser.parse_args()
    torch.manual_seed(0)
    # Large inputs: every per-sample gradient is far above max_grad_norm, so unclipped updates show.
    # time-major: [batch, 5 steps, 8] data fed time-first to a per-step Linear under batch_first=True.
    shape = (64, 5, 8) if args.mode == "time-major" else (64, 8)
    data = TensorDataset(torch.randn(*shape) * 100, torch.randint(0, 3, (64,)))
    loader = DataLoader(data, batch_size=16)
    model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 3))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    engine = PrivacyEngine()
    if args.mode in ("ghost-function", "ghost-original"):
        given = F.cross_entropy if args.mode == "ghost-function" else nn.CrossEntropyLoss()
        model, optimizer, criterion, train_loader = engine.make_private(
            module=model, optimizer=optimizer, data_loader=loader, criterion=given,
            noise_multiplier=1.0, max_grad_norm=1.0, grad_sample_mode="ghost",
        )
        if args.mode == "ghost-original":
            criterion = given
    else:
        model, optimizer, train_loader = engine.make_private(
            module=model, optimizer=optimizer, data_loader=loader, noise_multiplier=1.0, max_grad_norm=1.0,
        )
        criterion = nn.CrossEntropyLoss(reduction="sum" if args.mode == "reduction-sum" else "mean")
        if args.mode == "per-sample-sum":
            criterion = lambda out, y: F.cross_entropy(out, y, reduction="none").sum()  # noqa: E731
        if args.mode == "per-sample-mean":
            criterion = lambda out, y: F.cross_entropy(out, y, reduction="none").mean()  # noqa: E731
    if args.mode == "old-loader":
        train_loader = loader
    scaler = torch.amp.GradScaler("cpu") if args.mode == "scaler" else None
    if args.mode == "memory-manager":
        # The Opacus tutorials' shape: logical batches split into physical ones of at most 4.
        from opacus.utils.batch_memory_manager import BatchMemoryManager

        with BatchMemoryManager(data_loader=train_loader, max_physical_batch_size=4, optimizer=optimizer) as physical:
            for x, y in physical:
                optimizer.zero_grad()
                criterion(model(x), y).backward()
                optimizer.step()
    for epoch in range(3):
        for x, y in train_loader:
            optimizer.zero_grad()
            if args.mode == "time-major":
                loss = criterion(model(x.transpose(0, 1)).mean(0), y)
            elif args.mode == "two-views":  # SimCLR-style: both augmented views in one batch
                loss = criterion(model(torch.cat([x, x + torch.randn_like(x)])), torch.cat([y, y]))
            else:
                loss = criterion(model(x), y)
            if scaler is not None:
                scaler.scale(loss).backward()
                scaler.step(optimizer)
                scaler.update()
                continue
            loss.backward()
            if args.mode == "two-backward":
                criterion(model(x), y).backward()
            optimizer.step()
    print("TRAINED")
""")


def observe(tmp_path: Path, mode: str, steps: int = 3) -> tuple[int, dict]:
    (tmp_path / "train.py").write_text(SCRIPT, encoding="utf-8")
    old = os.getcwd()
    try:
        os.chdir(tmp_path)
        result = CliRunner().invoke(
            main, ["verify", "--run", f"python train.py --mode {mode}", "--steps", str(steps),
                   "--output-format", "json"],
            catch_exceptions=False,
        )
    finally:
        os.chdir(old)
    verdicts = json.loads(result.stdout)
    assert len(verdicts) == 1, verdicts
    return result.exit_code, verdicts[0]


def broken(verdict: dict) -> list[str]:
    return [i["name"] for i in verdict["invariants"] if not i["holds"]]


def test_correct_loop_keeps_every_invariant(tmp_path):
    status, verdict = observe(tmp_path, "ok")
    assert (status, verdict["verdict"]) == (0, "ok"), verdict
    assert verdict["steps"] == 3
    assert {i["name"] for i in verdict["invariants"]} == {"clipped-update", "private-loader", "no-loss-scaling",
                                                          "loss-reduction", "per-sample-rows", "noise-scale",
                                                          "per-sample-gradients"}
    assert broken(verdict) == []
    measured = {i["name"]: i["measured"] for i in verdict["invariants"]}
    assert "in 3 judged step(s)" in measured["per-sample-rows"]
    assert "configured noise_multiplier x max_grad_norm = 1" in measured["noise-scale"]
    assert measured["per-sample-gradients"].startswith("first batch: per-sample gradients match")
    assert verdict["parameters"], verdict  # the first batch's per-sample comparison, per parameter


@pytest.mark.parametrize("mode", ["time-major", "two-views"])
def test_rows_that_are_not_samples_break_the_privacy_bound(tmp_path, mode):
    """Measured on opacus 1.6.0: both train without an error. Time-major data under
    batch_first=True gives 5 rows (time steps) per parameter for a batch of about 16 samples; two
    views in one batch give 2 rows per sample. Either way a sample moves the update by more than C."""
    status, verdict = observe(tmp_path, mode)
    assert (status, verdict["verdict"]) == (1, "silent"), verdict
    assert "per-sample-rows" in broken(verdict)
    rows = next(i for i in verdict["invariants"] if i["name"] == "per-sample-rows")
    assert "elements drawn from the private loader" in rows["measured"]


def test_batch_memory_manager_over_the_private_loader_keeps_every_invariant(tmp_path):
    """Physical batches of a BatchMemoryManager draw from the private loader's batch sampler, and
    the skipped sub-steps accumulate into one private step: nothing is broken."""
    status, verdict = observe(tmp_path, "memory-manager", steps=2)
    assert (status, verdict["verdict"]) == (0, "ok"), verdict
    assert broken(verdict) == []
    assert verdict["steps"] == 2


def test_mean_of_per_sample_losses_is_judged_and_holds(tmp_path):
    status, verdict = observe(tmp_path, "per-sample-mean")
    assert (status, verdict["verdict"]) == (0, "ok"), verdict
    reduction = next(i for i in verdict["invariants"] if i["name"] == "loss-reduction")
    assert "mean (MeanBackward0): 3" in reduction["measured"]


@pytest.mark.parametrize("mode, node", [("reduction-sum", "NllLossBackward0"), ("per-sample-sum", "SumBackward0")])
def test_sum_over_the_batch_under_mean_reduction_is_a_utility_error(tmp_path, mode, node):
    status, verdict = observe(tmp_path, mode)
    assert verdict["verdict"] == "silent", verdict
    assert broken(verdict) == ["loss-reduction"]
    assert f"sum ({node})" in verdict["error"] and "privacy holds" in verdict["error"]


@pytest.mark.parametrize(("mode", "why"), [
    ("ghost-function", "one loss for the whole batch"),
    ("ghost-original", "no backward pass went through the criterion make_private returned"),
])
def test_ghost_mode_without_the_returned_loss_module_releases_unclipped_updates(tmp_path, mode, why):
    """Both measures break: the update exceeds the clipping bound (large gradients here), and the
    ghost-clipping check says why, whatever the size of the gradients."""
    status, verdict = observe(tmp_path, mode)
    assert (status, verdict["verdict"]) == (1, "silent"), verdict
    assert broken(verdict) == ["clipped-update", "ghost-clipping"]
    assert why in next(i["measured"] for i in verdict["invariants"] if i["name"] == "ghost-clipping")
    assert "privacy guarantee does not hold" in verdict["error"]
    assert verdict["settings"]["grad_sample_mode"] == "ghost"
    assert "loss-reduction" not in {i["name"] for i in verdict["invariants"]}  # ghost's loss wrapper reduces itself


def test_iterating_the_original_loader_is_an_accounting_error(tmp_path):
    status, verdict = observe(tmp_path, "old-loader")
    assert (status, verdict["verdict"]) == (1, "silent"), verdict
    assert broken(verdict) == ["private-loader"]
    assert "get_epsilon reports is wrong" in verdict["error"]


def test_grad_scaler_is_reported_as_a_utility_error(tmp_path):
    status, verdict = observe(tmp_path, "scaler")
    assert verdict["verdict"] == "silent", verdict
    assert broken(verdict) == ["no-loss-scaling"]
    assert "privacy holds" in verdict["error"] and "65536" in verdict["error"]


def test_two_backward_passes_per_step_crash_at_the_first_step(tmp_path):
    status, verdict = observe(tmp_path, "two-backward")
    assert (status, verdict["verdict"]) == (1, "crash"), verdict
    assert "Poisson sampling is not compatible with grad accumulation" in verdict["error"]
    assert verdict["invariants"] == []  # no step was taken: nothing measured


def test_steps_needs_a_command(tmp_path):
    result = CliRunner().invoke(main, ["verify", "--steps", "2", str(tmp_path)])
    assert result.exit_code == 2
    assert "--steps observes a training run" in result.output


def test_script_without_engine_cannot_be_observed(tmp_path):
    (tmp_path / "train.py").write_text("print('no engine here')\n", encoding="utf-8")
    old = os.getcwd()
    try:
        os.chdir(tmp_path)
        result = CliRunner().invoke(main, ["verify", "--run", "python train.py", "--steps", "1",
                                           "--output-format", "json"], catch_exceptions=False)
    finally:
        os.chdir(old)
    verdict = json.loads(result.stdout)[0]
    assert verdict["verdict"] == "cannot-build"
    assert "without calling make_private" in verdict["error"]

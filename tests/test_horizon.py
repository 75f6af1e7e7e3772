"""The training-script question behind DPL215 (dp_lint/analysis/horizon.py): does an epoch loop after
`make_private_with_epsilon(epochs=E)` run its training loop over the returned loader more than E times? Unknown
counts, early stopping, conditional training and a loop around the engine call give no answer."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from dp_lint.analysis.horizon import privacy_horizon_exceeded
from dp_lint.analysis.project import Project
from dp_lint.files.source import parse_text

HEADER = """
import torch
from opacus import PrivacyEngine
EPOCHS = 3
"""

ENGINE = """
    model, optimizer, loader = PrivacyEngine().make_private_with_epsilon(
        module=net, optimizer=optimizer, data_loader=data, target_epsilon=5.0, target_delta=1e-5,
        epochs={planned}, max_grad_norm=1.0)
"""

TRAIN = """
for x, y in loader:
    optimizer.zero_grad()
    model(x).sum().backward()
    optimizer.step()
"""


def _found(tmp_path: Path, loop: str, planned: str = "1", extra: str = "") -> list[tuple[int, int]]:
    body = "def main(net, optimizer, data, flag):" + ENGINE.format(planned=planned) + textwrap.indent(
        textwrap.dedent(loop), "    ")
    project = Project([parse_text(tmp_path / "train.py", "train", textwrap.dedent(HEADER) + extra + body)])
    (setup,) = project.training_setups
    return [(f.planned, f.epochs) for f in privacy_horizon_exceeded(setup, project.index)]


def _epochs(header: str, inner: str = TRAIN) -> str:
    return header + "\n" + textwrap.indent(textwrap.dedent(inner), "    ")


@pytest.mark.parametrize("header, planned, expected", [
    ("for epoch in range(EPOCHS):", "1", [(1, 3)]),
    ("for epoch in range(1, EPOCHS + 1):", "2", [(2, 3)]),
    ("for epoch in range(0, 10, 2):", "4", [(4, 5)]),
    ("for epoch in range(EPOCHS):", "EPOCHS", []),
    ("for epoch in range(EPOCHS):", "4", []),
])
def test_counts_are_compared(tmp_path, header, planned, expected):
    assert _found(tmp_path, _epochs(header), planned) == expected


def test_a_helper_called_each_epoch(tmp_path):
    helper = """
def train(model, loader, optimizer):
    for x, y in loader:
        optimizer.zero_grad()
        model(x).sum().backward()
        optimizer.step()

"""
    loop = "for epoch in range(EPOCHS):\n    train(model, loader, optimizer)\n"
    assert _found(tmp_path, loop, extra=helper) == [(1, 3)]


@pytest.mark.parametrize("loop", [
    # early stopping, in the epoch loop or the training loop
    _epochs("for epoch in range(EPOCHS):", TRAIN + "if flag:\n    break\n"),
    _epochs("for epoch in range(EPOCHS):", TRAIN.replace("    optimizer.step()", "    optimizer.step()\n    if flag:\n        break")),
    # training only on some epochs
    _epochs("for epoch in range(EPOCHS):", "if epoch % 2 == 0:\n" + textwrap.indent(TRAIN, "    ")),
    # an unknown count, a loop over something else
    _epochs("for epoch in range(flag):"),
    _epochs("for epoch in epochs_list:"),
    # another loader
    _epochs("for epoch in range(EPOCHS):", TRAIN.replace("in loader", "in data")),
])
def test_no_answer_when_the_epochs_run_are_unknown(tmp_path, loop):
    assert _found(tmp_path, loop) == []


def test_unknown_planned_epochs(tmp_path):
    assert _found(tmp_path, _epochs("for epoch in range(EPOCHS):"), planned="flag") == []


def test_a_round_loop_around_the_engine_call_is_not_an_epoch_loop(tmp_path):
    text = textwrap.dedent(HEADER) + "def main(net, optimizer, data):\n    for round_index in range(EPOCHS):" + \
        textwrap.indent(ENGINE.format(planned="1"), "    ") + textwrap.indent(textwrap.dedent(TRAIN), "        ")
    project = Project([parse_text(tmp_path / "train.py", "train", text)])
    (setup,) = project.training_setups
    assert privacy_horizon_exceeded(setup, project.index) == []


def test_make_private_has_no_horizon(tmp_path):
    text = textwrap.dedent(HEADER) + "def main(net, optimizer, data):\n" + ENGINE.format(planned="1").replace(
        "make_private_with_epsilon", "make_private").replace("target_epsilon=5.0, target_delta=1e-5,",
                                                               "noise_multiplier=1.0,") + \
        textwrap.indent(textwrap.dedent(_epochs("for epoch in range(EPOCHS):")), "    ")
    project = Project([parse_text(tmp_path / "train.py", "train", text)])
    (setup,) = project.training_setups
    assert privacy_horizon_exceeded(setup, project.index) == []

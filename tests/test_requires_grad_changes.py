"""The training-script question behind DPL216 (dp_lint/analysis/requires_grad.py): a `requires_grad` change after
the engine call on parameters the DP optimizer steps (unfreezing a layer frozen at the call in hooks/functorch
mode, freezing in ghost mode), before a step. Filtered optimizers, freezes that may not have run, and changes
with no later step give no answer."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from dp_lint.analysis.project import Project
from dp_lint.analysis.requires_grad import requires_grad_changed_after_engine
from dp_lint.files.source import parse_text

HEADER = """
import torch
from opacus import PrivacyEngine
"""

LOOP = """
for x, y in loader:
    optimizer.zero_grad()
    model(x).sum().backward()
    optimizer.step()
"""


def _found(tmp_path: Path, before: str, after: str, params: str = "model.parameters()", extra: str = "",
           targets: str = "model, optimizer, loader") -> list[tuple[str, bool, bool]]:
    body = (
        "def main(model, data, flag):\n"
        + textwrap.indent(textwrap.dedent(before), "    ")
        + f"    optimizer = torch.optim.SGD({params}, lr=0.1)\n"
        + f"    {targets} = PrivacyEngine().make_private(module=model, optimizer=optimizer, data_loader=data, "
          f"noise_multiplier=1.0, max_grad_norm=1.0{extra})\n"
        + textwrap.indent(textwrap.dedent(after), "    ")
    )
    project = Project([parse_text(tmp_path / "train.py", "train", textwrap.dedent(HEADER) + body)])
    (setup,) = project.training_setups
    return [(f.path, f.value, f.conditional) for f in requires_grad_changed_after_engine(setup)]


FREEZE = "for p in model.backbone.parameters():\n    p.requires_grad = False\n"


@pytest.mark.parametrize("after, expected", [
    ("model.requires_grad_(True)\n" + LOOP, [("model", True, False)]),
    ("model.requires_grad_()\n" + LOOP, [("model", True, False)]),
    ("model._module.backbone[0].requires_grad_(True)\n" + LOOP, [("model._module.backbone[0]", True, False)]),
    ("for epoch in range(3):\n    if epoch == 1:\n        model.requires_grad_(True)\n"
     + textwrap.indent(LOOP, "    "), [("model", True, True)]),
])
def test_unfreezing_a_layer_frozen_at_the_call(tmp_path, after, expected):
    assert _found(tmp_path, FREEZE, after) == expected


@pytest.mark.parametrize("before, after, params", [
    # the optimizer leaves the frozen layer out
    (FREEZE, "model.requires_grad_(True)\n" + LOOP, "filter(lambda p: p.requires_grad, model.parameters())"),
    # the freeze may not have run; it was undone before the call
    ("if flag:\n" + textwrap.indent(FREEZE, "    "), "model.requires_grad_(True)\n" + LOOP, "model.parameters()"),
    (FREEZE + "model.backbone.requires_grad_(True)\n", "model.requires_grad_(True)\n" + LOOP, "model.parameters()"),
    # another layer unfrozen; no step after the change; a change under a test outside the loop
    (FREEZE, "model.head.requires_grad_(True)\n" + LOOP, "model.parameters()"),
    (FREEZE, LOOP + "model.requires_grad_(True)\n", "model.parameters()"),
    (FREEZE, "if flag:\n    model.requires_grad_(True)\n" + LOOP, "model.parameters()"),
    # freezing after the call trains in hooks mode
    ("", "model.backbone.requires_grad_(False)\n" + LOOP, "model.parameters()"),
])
def test_no_answer(tmp_path, before, after, params):
    assert _found(tmp_path, before, after, params) == []


def test_ghost_mode_freezing_after_the_call(tmp_path):
    found = _found(tmp_path, "", "model.backbone.requires_grad_(False)\n" + LOOP,
                   extra=", criterion=torch.nn.CrossEntropyLoss(), grad_sample_mode='ghost'",
                   targets="model, optimizer, criterion, loader")
    assert found == [("model.backbone", False, False)]


def test_ghost_mode_unfreezing_trains(tmp_path):
    assert _found(tmp_path, FREEZE, "model.requires_grad_(True)\n" + LOOP,
                  extra=", criterion=torch.nn.CrossEntropyLoss(), grad_sample_mode='ghost'",
                  targets="model, optimizer, criterion, loader") == []

"""The training-script question behind DPL218 (dp_lint/analysis/replaced_modules.py): a trainable submodule or
parameter of the engine's model replaced after the optimizer holding it was built, before the engine call or
after it (before a DP step). Unknown classes, optimizers that may not hold the layer, replacements that keep
the old layer, and parameter-free layers give no answer."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from dp_lint.analysis.project import Project
from dp_lint.analysis.replaced_modules import replaced_after_optimizer
from dp_lint.files.source import parse_text

HEADER = """
import torch
import torch.nn as nn
from opacus import PrivacyEngine


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(8, 8), nn.ReLU(), nn.Linear(8, 8))
        self.act = nn.ReLU()
        self.head = nn.Linear(8, 3, bias=False)

    def forward(self, x):
        return self.head(self.act(self.body(x)))


def replace_head(model, n):
    model.head = nn.Linear(8, n)
"""

LOOP = """
for x, y in loader:
    optimizer.zero_grad()
    model(x).sum().backward()
    optimizer.step()
"""


def _found(tmp_path: Path, between: str, after: str = LOOP, params: str = "model.parameters()",
           model: str = "Net()") -> list[tuple[str, bool, bool, bool]]:
    body = (
        "def main(data, flag):\n"
        + f"    model = {model}\n"
        + f"    optimizer = torch.optim.SGD({params}, lr=0.1)\n"
        + textwrap.indent(textwrap.dedent(between), "    ")
        + "    model, optimizer, loader = PrivacyEngine().make_private(module=model, optimizer=optimizer, "
          "data_loader=data, noise_multiplier=1.0, max_grad_norm=1.0)\n"
        + textwrap.indent(textwrap.dedent(after), "    ")
    )
    project = Project([parse_text(tmp_path / "train.py", "train", textwrap.dedent(HEADER) + body)])
    (setup,) = project.training_setups
    return [(f.path, f.parameter, f.after_engine, f.conditional)
            for f in replaced_after_optimizer(setup, project.index, project.modules)]


@pytest.mark.parametrize("between, expected", [
    ("model.head = nn.Linear(8, 5)\n", [("model.head", False, False, False)]),
    ("model.head = nn.Linear(model.head.in_features, 5)\n", [("model.head", False, False, False)]),
    ("model.body[2] = nn.Linear(8, 8)\n", [("model.body[2]", False, False, False)]),
    ("setattr(model, 'head', nn.Linear(8, 5))\n", [("model.head", False, False, False)]),
    ("replace_head(model, 5)\n", [("model.head", False, False, False)]),
    ("model.body[0].weight = nn.Parameter(torch.zeros(8, 8))\n", [("model.body[0].weight", True, False, False)]),
    ("if flag:\n    model.head = nn.Linear(8, 5)\n", [("model.head", False, False, True)]),
])
def test_replaced_before_the_engine_call(tmp_path, between, expected):
    assert _found(tmp_path, between) == expected


@pytest.mark.parametrize("params", [
    "filter(lambda p: p.requires_grad, model.parameters())",
    "[p for p in model.parameters() if p.requires_grad]",
    "[{'params': model.head.parameters(), 'lr': 0.1}]",
])
def test_optimizers_that_hold_every_trainable_parameter_of_a_path(tmp_path, params):
    assert _found(tmp_path, "model.head = nn.Linear(8, 5)\n", params=params) == [("model.head", False, False, False)]


@pytest.mark.parametrize("between, params, model", [
    ("model.act = nn.GELU()\n", "model.parameters()", "Net()"),  # parameter-free
    ("model.head = nn.Sequential(nn.Dropout(0.1), model.head)\n", "model.parameters()", "Net()"),  # kept
    ("model.head = model.head.to('cpu')\n", "model.parameters()", "Net()"),  # the same module
    ("model.head.bias = nn.Parameter(torch.zeros(3))\n", "model.parameters()", "Net()"),  # bias=False: new
    ("model.head = nn.Linear(8, 5)\n", "model.body.parameters()", "Net()"),  # not held
    ("model.head = nn.Linear(8, 5)\n", "[p for n, p in model.named_parameters() if 'head' not in n]", "Net()"),
    ("model.head.requires_grad_(False)\nmodel.head = nn.Linear(8, 5)\n",
     "[p for p in model.parameters() if p.requires_grad]", "Net()"),  # a script freeze: not guessed
    ("model.head = nn.Linear(8, 5)\n", "model.parameters()", "torch.hub.load('x', 'y')"),  # unknown class
    ("model.missing = nn.Linear(8, 5)\n", "model.parameters()", "Net()"),  # a new attribute
])
def test_no_answer(tmp_path, between, params, model):
    assert _found(tmp_path, between, params=params, model=model) == []


@pytest.mark.parametrize("after, expected", [
    ("model._module.head = nn.Linear(8, 3)\n" + LOOP, [("model._module.head", False, True, False)]),
    ("for epoch in range(2):\n    if epoch == 1:\n        model._module.head = nn.Linear(8, 3)\n"
     + textwrap.indent(LOOP, "    "), [("model._module.head", False, True, True)]),
    ("model._module.body[0].weight = nn.Parameter(torch.zeros(8, 8))\n" + LOOP,
     [("model._module.body[0].weight", True, True, False)]),
    # the wrapper's own attribute is not the model's (measured: trains)
    ("model.head = nn.Linear(8, 3)\n" + LOOP, []),
    # no step after it
    (LOOP + "model._module.head = nn.Linear(8, 3)\n", []),
])
def test_replaced_after_the_engine_call(tmp_path, after, expected):
    assert _found(tmp_path, "", after) == expected


@pytest.mark.parametrize("between, expected", [
    ("model.body.requires_grad_(False)\nmodel.head = nn.Linear(8, 5)\n", [("model.head", False, False, False)]),
    ("for p in model.body.parameters():\n    p.requires_grad = False\nmodel.head = nn.Linear(8, 5)\n",
     [("model.head", False, False, False)]),
    ("model.requires_grad_(False)\nmodel.head = nn.Linear(8, 5)\n", []),              # the whole model: not guessed
    ("model.head = nn.Linear(8, 5)\nmodel.head.requires_grad_(False)\n", []),         # the new layer frozen
])
def test_a_freeze_of_another_part_is_read(tmp_path, between, expected):
    params = "filter(lambda p: p.requires_grad, model.parameters())"
    assert _found(tmp_path, between, params=params) == expected

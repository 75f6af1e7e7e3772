"""The training-script question behind DPL220 (dp_lint/analysis/outside_optimizer.py): an optimizer built on part
of the private model while another submodule is trainable and gets gradients, in a hooks/functorch loop under
Poisson sampling that clears only through the DP optimizer. Freezes, unread optimizers, other modes, helpers
given the model, the model's own `zero_grad()` and submodules without gradient give no answer."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from dp_lint.analysis.outside_optimizer import trainable_outside_optimizer
from dp_lint.analysis.project import Project
from dp_lint.files.source import parse_text

HEADER = """
import torch
import torch.nn as nn
from opacus import PrivacyEngine


class Backbone(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 8)

    def forward(self, x):
        return torch.relu(self.fc(x))


class Probe(nn.Module):
    def __init__(self):
        super().__init__()
        self.backbone = Backbone()
        self.act = nn.ReLU()
        self.head = nn.Linear(8, 3)

    def forward(self, x):
        return self.head(self.act(self.backbone(x)))


class DetachedProbe(Probe):
    def forward(self, x):
        return self.head(self.backbone(x).detach())


def build(pretrained):
    model = Probe()
    return model
"""

# Project code that freezes: only in the tests that need it (freezes are project facts).
BUILD_FROZEN = """
def build_frozen():
    model = Probe()
    model.backbone.requires_grad_(False)
    return model
"""

FREEZE_HELPER = """
def freeze(module):
    module.requires_grad_(False)
"""

LOOP = """
for x, y in loader:
    optimizer.zero_grad()
    criterion(model(x), y).backward()
    optimizer.step()
"""


def _found(tmp_path: Path, params: str = "model.head.parameters()", model: str = "Probe()", between: str = "",
           options: str = "", loop: str = LOOP, extra: str = "") -> list[tuple[str, tuple[str, ...]]]:
    body = (
        "def main(data, criterion):\n"
        + f"    model = {model}\n"
        + textwrap.indent(textwrap.dedent(between), "    ")
        + f"    optimizer = torch.optim.SGD({params}, lr=0.1)\n"
        + "    model, optimizer, loader = PrivacyEngine().make_private(module=model, optimizer=optimizer, "
          f"data_loader=data, noise_multiplier=1.0, max_grad_norm=1.0{options})\n"
        + textwrap.indent(textwrap.dedent(loop), "    ")
    )
    project = Project([parse_text(tmp_path / "train.py", "train", textwrap.dedent(HEADER) + extra + "\n\n" + body)])
    (setup,) = project.training_setups
    return [(f.path, f.held) for f in trainable_outside_optimizer(setup, project)]


@pytest.mark.parametrize("params, model", [
    ("model.head.parameters()", "Probe()"),
    ("[p for p in model.head.parameters() if p.requires_grad]", "Probe()"),
    ("[{'params': model.head.parameters(), 'lr': 0.1}]", "Probe()"),
    ("model.head.parameters()", "build(True)"),
])
def test_the_backbone_left_out(tmp_path, params, model):
    assert _found(tmp_path, params, model) == [("model.backbone", ("model.head",))]


def test_the_head_left_out(tmp_path):
    assert _found(tmp_path, "model.backbone.fc.parameters()") == [("model.head", ("model.backbone.fc",))]


@pytest.mark.parametrize("options", ["", ", grad_sample_mode='functorch'", ", poisson_sampling=True"])
def test_hooks_and_functorch_under_poisson_sampling(tmp_path, options):
    assert _found(tmp_path, options=options) == [("model.backbone", ("model.head",))]


@pytest.mark.parametrize("params, model, between, extra", [
    ("model.parameters()", "Probe()", "", ""),                                                  # holds everything
    ("[{'params': model.head.parameters()}, {'params': model.backbone.parameters()}]", "Probe()", "", ""),
    ("[{'params': model.backbone.fc.parameters()}, {'params': model.head.parameters()}]", "Probe()", "", ""),  # by parts
    ("model.head.parameters()", "Probe()", "model.backbone.requires_grad_(False)\n", ""),      # frozen
    ("model.head.parameters()", "Probe()", "for p in model.backbone.parameters():\n    p.requires_grad = False\n", ""),
    ("model.head.parameters()", "Probe()", "freeze(model.backbone)\n", FREEZE_HELPER),                    # a helper given it
    ("model.head.parameters()", "build_frozen()", "", BUILD_FROZEN),                                      # frozen by the factory
    ("model.head.parameters()", "DetachedProbe()", "", ""),                                     # no gradient reaches it
    ("model.head.parameters()", "get_model()", "", ""),                                         # unknown construction
    ("head_params(model)", "Probe()", "", ""),                                                  # unread optimizer
])
def test_not_reported(tmp_path, params, model, between, extra):
    assert _found(tmp_path, params, model, between, extra=extra) == []


def test_harmless_uses_of_the_model_are_allowed(tmp_path):
    between = "model.to('cpu')\nmodel.train()\nmodel.load_state_dict(model.state_dict())\nprint(model)\n"
    assert _found(tmp_path, between=between) == [("model.backbone", ("model.head",))]


@pytest.mark.parametrize("options", [", grad_sample_mode='ghost'", ", poisson_sampling=False",
                                     ", poisson_sampling=flag"])
def test_other_settings(tmp_path, options):
    assert _found(tmp_path, options=options) == []


@pytest.mark.parametrize("loop", [
    LOOP.replace("    optimizer.zero_grad()\n", "    optimizer.zero_grad()\n    model.zero_grad()\n"),
    LOOP.replace("    optimizer.step()\n", "    if flag:\n        optimizer.step()\n"),
    "",                                                                                      # no training loop
])
def test_loops_without_an_answer(tmp_path, loop):
    assert _found(tmp_path, loop=loop) == []


WRAPPER = """
class Wrapper(nn.Module):
    def __init__(self, backbone, head):
        super().__init__()
        self.backbone = backbone
        self.head = head

    def forward(self, x):
        return self.head(self.backbone(x))
"""


@pytest.mark.parametrize("params, expected", [
    ("head.parameters()", [("model.backbone", ("model.head",))]),   # the variable the wrapper stores as self.head
    ("[{'params': backbone.parameters()}, {'params': head.parameters()}]", []),
    ("other.parameters()", []),                                      # a variable the wrapper does not store
])
def test_parts_built_apart_and_handed_to_a_wrapper(tmp_path, params, expected):
    model = "Wrapper(backbone, head)"
    between = "other = nn.Linear(8, 3)\n"
    body = (f"def main(data, criterion):\n    backbone = Backbone()\n    head = nn.Linear(8, 3)\n    model = {model}\n"
            + textwrap.indent(between, "    ")
            + f"    optimizer = torch.optim.SGD({params}, lr=0.1)\n"
            + "    model, optimizer, loader = PrivacyEngine().make_private(module=model, optimizer=optimizer, "
              "data_loader=data, noise_multiplier=1.0, max_grad_norm=1.0)\n"
            + textwrap.indent(textwrap.dedent(LOOP), "    "))
    source = textwrap.dedent(HEADER) + WRAPPER + "\n\n" + body
    project = Project([parse_text(tmp_path / "train.py", "train", source)])
    (setup,) = project.training_setups
    assert [(f.path, f.held) for f in trainable_outside_optimizer(setup, project)] == expected


TRAINER = """
class Trainer:
    def __init__(self, model, lr=0.1):
        self.model = model
        self.optimizer = torch.optim.SGD(self.model.head.parameters(), lr=lr)
        self.criterion = nn.CrossEntropyLoss()

    def fit(self, data):
        self.model, self.optimizer, loader = PrivacyEngine().make_private(
            module=self.model, optimizer=self.optimizer, data_loader=data, noise_multiplier=1.0, max_grad_norm=1.0)
        for x, y in loader:
            self.optimizer.zero_grad()
            self.criterion(self.model(x), y).backward()
            self.optimizer.step()
"""


def _found_in_trainer(tmp_path: Path, caller: str, extra: str = "") -> list[tuple[str, tuple[str, ...]]]:
    source = textwrap.dedent(HEADER) + extra + TRAINER + "\n\n" + textwrap.dedent(caller)
    project = Project([parse_text(tmp_path / "train.py", "train", source)])
    (setup,) = project.training_setups
    return [(f.path, f.held) for f in trainable_outside_optimizer(setup, project)]


def test_a_model_handed_to_a_trainer(tmp_path):
    caller = """
    def main(data):
        model = Probe()
        model.to("cpu")
        trainer = Trainer(model, lr=0.01)
        trainer.fit(data)
    """
    assert _found_in_trainer(tmp_path, caller) == [("self.model.backbone", ("self.model.head",))]


@pytest.mark.parametrize("caller, extra", [
    ("def main(data):\n    model = Probe()\n    model.backbone.requires_grad_(False)\n    Trainer(model).fit(data)\n", ""),
    ("def main(data):\n    model = Probe()\n    freeze(model.backbone)\n    Trainer(model).fit(data)\n", FREEZE_HELPER),
    ("def main(data):\n    model = Probe()\n    prepare(model)\n    Trainer(model).fit(data)\n", ""),   # unknown helper
    ("def main(data):\n    model = Probe()\n    Trainer(model).fit(data)\n    Trainer(model).fit(data)\n", ""),  # two
    ("def main(data):\n    Trainer(get_model()).fit(data)\n", ""),                                   # not a name
    ("def main(data, model):\n    Trainer(model).fit(data)\n", ""),                                  # not built here
    ("def main(data):\n    model = build_frozen()\n    Trainer(model).fit(data)\n", BUILD_FROZEN),
])
def test_a_handed_model_without_an_answer(tmp_path, caller, extra):
    assert _found_in_trainer(tmp_path, caller, extra) == []


@pytest.mark.parametrize("params, expected", [
    ("model.parameters()", []),                                               # the parameter is the model itself
    ("model.head.parameters()", [("self.model.backbone", ("self.model.head",))]),
])
def test_a_trainer_building_the_optimizer_from_its_parameter(tmp_path, params, expected):
    extra = TRAINER.replace("self.model.head.parameters()", params).replace("class Trainer:", "class ParamTrainer:")
    caller = "def main(data):\n    model = Probe()\n    ParamTrainer(model).fit(data)\n"
    source = textwrap.dedent(HEADER) + extra + "\n\n" + caller
    project = Project([parse_text(tmp_path / "train.py", "train", source)])
    (setup,) = project.training_setups
    assert [(f.path, f.held) for f in trainable_outside_optimizer(setup, project)] == expected

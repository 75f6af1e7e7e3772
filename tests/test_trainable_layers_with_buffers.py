"""The question behind DPL109 (dp_lint/analysis/buffers.py): which module instances of a private
model own a trainable parameter and hold a buffer (their own, or a submodule's), which Opacus'
GradSampleModule validation refuses. Anything uncertain gives no answer."""

from __future__ import annotations

import textwrap
from pathlib import Path

from dp_lint.analysis.buffers import trainable_layers_with_buffers
from dp_lint.analysis.project import Project
from dp_lint.files.source import parse_text

HEADER = """
import torch
import torch.nn as nn
from opacus import PrivacyEngine

class Masked(nn.Module):
    def __init__(self, n=4):
        super().__init__()
        self.proj = nn.Linear(n, n)
        self.register_buffer("mask", torch.tril(torch.ones(n, n)))

    def forward(self, x):
        return self.proj(x) * self.mask[0]
"""


def _found(tmp_path: Path, body: str, files: dict[str, str] | None = None) -> list[tuple[str, str, str, str | None]]:
    sources = [parse_text(tmp_path / "model.py", "model", textwrap.dedent(HEADER) + textwrap.dedent(body))]
    for name, text in (files or {}).items():
        sources.append(parse_text(tmp_path / f"{name}.py", name, textwrap.dedent(text)))
    project = Project(sources)
    return sorted((f.path, f.parameter, f.buffer, Path(f.engine.label()).name if f.engine else None)
                  for f in trainable_layers_with_buffers(project))


NET = """
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.scale = nn.Parameter(torch.ones(4))
        self.block = Masked()

    def forward(self, x):
        return self.block(x) * self.scale
"""

SCRIPT = """
import torch
from opacus import PrivacyEngine
from model import Net

model = Net()
{before}
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
model, optimizer, loader = PrivacyEngine().make_private(
    module=model, optimizer=optimizer, data_loader=loader, noise_multiplier=1.0, max_grad_norm=1.0{mode})
"""


def _script(before: str = "", mode: str = "") -> dict[str, str]:
    return {"train": SCRIPT.format(before=before, mode=mode)}


def test_a_parameter_of_the_root_and_a_buffer_of_a_submodule(tmp_path):
    assert _found(tmp_path, NET) == [("Net", "scale", "block.mask", None)]
    assert _found(tmp_path, NET, _script()) == [("Net", "scale", "block.mask", "train.py:9")]


def test_a_class_with_its_own_parameter_and_buffer_and_a_container_of_them(tmp_path):
    body = """
class Norm(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(c))
        self.register_buffer("running_mean", torch.zeros(c))

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(4, 4), Norm(4))
"""
    assert _found(tmp_path, body) == [("Net.body", "weight", "running_mean", None)]


def test_frozen_parameters_give_no_answer(tmp_path):
    frozen_at_birth = NET.replace("nn.Parameter(torch.ones(4))", "nn.Parameter(torch.ones(4), requires_grad=False)")
    assert _found(tmp_path, frozen_at_birth) == []
    frozen_in_init = NET.replace("        self.block = Masked()", "        self.block = Masked()\n        self.scale.requires_grad_(False)")
    assert _found(tmp_path, frozen_in_init) == []
    assert _found(tmp_path, NET, _script(before="model.scale.requires_grad = False")) == []
    assert _found(tmp_path, NET, _script(before="model.requires_grad_(False)")) == []


def test_undecided_or_false_conditions_and_none_buffers_give_no_answer(tmp_path):
    conditional = NET.replace("    def __init__(self):", "    def __init__(self, learn=None):").replace(
        "        self.scale = nn.Parameter(torch.ones(4))", "        if learn:\n            self.scale = nn.Parameter(torch.ones(4))")
    assert _found(tmp_path, conditional) == []
    decided = conditional.replace("learn=None", "learn=True")
    assert _found(tmp_path, decided) == [("Net", "scale", "block.mask", None)]
    none_buffer = NET.replace("Masked()", "Unmasked()") + """
class Unmasked(nn.Module):
    def __init__(self):
        super().__init__()
        self.proj = nn.Linear(4, 4)
        self.register_buffer("mask", None)
"""
    assert _found(tmp_path, none_buffer) == []
    in_a_loop = NET.replace("Masked()", "Looped()") + """
class Looped(nn.Module):
    def __init__(self, n=0):
        super().__init__()
        for i in range(n):
            self.register_buffer(f"m{i}", torch.zeros(1))
"""
    assert _found(tmp_path, in_a_loop) == []


def test_expanded_weights_and_non_strict_grad_sample_modules_give_no_answer(tmp_path):
    assert _found(tmp_path, NET, _script(mode=', grad_sample_mode="ew"')) == []
    assert _found(tmp_path, NET, _script(mode=', grad_sample_mode="ghost"')) == [("Net", "scale", "block.mask", "train.py:9")]
    strict = {"train": "from opacus import GradSampleModule\nfrom model import Net\n"
                       "model = GradSampleModule(Net(), strict=False)\n"}
    assert _found(tmp_path, NET, strict) == []
    default = {"train": "from opacus import GradSampleModule\nfrom model import Net\nnet = Net()\nmodel = GradSampleModule(net)\n"}
    assert _found(tmp_path, NET, default) == [("Net", "scale", "block.mask", "train.py:4")]


def test_a_class_that_is_not_made_private_gives_no_answer(tmp_path):
    other = NET + """
class Other(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 4)
"""
    script = {"train": SCRIPT.format(before="", mode="").replace("from model import Net", "from model import Net, Other")
              .replace("model = Net()", "model = Other()")}
    assert _found(tmp_path, other, script) == []


def test_a_parameter_replaced_after_its_assignment_gives_no_answer(tmp_path):
    replaced = NET.replace("        self.block = Masked()", "        self.block = Masked()\n        self.scale = None")
    assert _found(tmp_path, replaced) == []

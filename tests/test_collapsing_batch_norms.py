"""Unit tests of `dp_lint.analysis.validator.collapsing_batch_norms` (DPL107's question): which
BatchNorm1d(C) layers `ModuleValidator.fix` turns into a GroupNorm(C, C) fed [batch, C] features."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from dp_lint.analysis.project import Project
from dp_lint.analysis.validator import collapsing_batch_norms
from dp_lint.files.source import parse_text

ENGINE = """
def train(loader):
    model = ModuleValidator.fix({build})
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    PrivacyEngine().make_private(module=model, optimizer=optimizer, data_loader=loader,
                                 noise_multiplier=1.0, max_grad_norm=1.0)
"""
HEADER = """
import argparse
from dataclasses import dataclass
import torch
import torch.nn as nn
from opacus import PrivacyEngine
from opacus.validators import ModuleValidator
"""


def _found(tmp_path: Path, body: str, build: str = "Net()", engine: str = ENGINE) -> list[tuple[str, int, str]]:
    text = textwrap.dedent(HEADER) + textwrap.dedent(body) + textwrap.dedent(engine).format(build=build)
    project = Project([parse_text(tmp_path / "train.py", "train", text)])
    return [(n.use.path, n.channels, n.fed_by) for n in collapsing_batch_norms(project)]


SEQUENTIAL = """
class Net(nn.Module):
    def __init__(self, hidden={c}):
        super().__init__()
        self.head = nn.Sequential(nn.Linear(12, hidden), nn.BatchNorm1d(hidden), nn.ReLU(), nn.Linear(hidden, 2))

    def forward(self, x):
        return self.head(x)
"""


@pytest.mark.parametrize("c", [1, 2, 4, 8, 16, 32])
def test_channels_dividing_32_after_linear(tmp_path, c):
    assert _found(tmp_path, SEQUENTIAL.format(c=c)) == [("Net.head[1]", c, "nn.Linear")]


@pytest.mark.parametrize("c", [3, 48, 64, 100, 128])
def test_other_channels_give_groups_of_several_values(tmp_path, c):
    assert _found(tmp_path, SEQUENTIAL.format(c=c)) == []


def test_no_validator_fix_no_finding(tmp_path):
    engine = ENGINE.replace("ModuleValidator.fix({build})", "{build}")
    assert _found(tmp_path, SEQUENTIAL.format(c=16), engine=engine) == []


@pytest.mark.parametrize("options", ["num_groups=1", "replace_bn_with_in=True", "**fix_options"])
def test_fix_with_options_no_finding(tmp_path, options):
    engine = ENGINE.replace("ModuleValidator.fix({build})", "ModuleValidator.fix({build}, " + options + ")")
    assert _found(tmp_path, SEQUENTIAL.format(c=16), engine=engine) == []


def test_fix_as_a_separate_statement(tmp_path):
    engine = ENGINE.replace("    model = ModuleValidator.fix({build})\n",
                            "    model = {build}\n    model = ModuleValidator.fix(model)\n")
    assert _found(tmp_path, SEQUENTIAL.format(c=8), engine=engine) == [("Net.head[1]", 8, "nn.Linear")]


def test_after_conv1d_the_input_is_a_sequence(tmp_path):
    body = """
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.body = nn.Sequential(nn.Conv1d(4, 16, 3), nn.BatchNorm1d(16), nn.ReLU())

        def forward(self, x):
            return self.body(x).flatten(1)
    """
    assert _found(tmp_path, body) == []


def test_flatten_with_arguments_is_unknown(tmp_path):
    body = """
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.body = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(2), nn.BatchNorm1d(16))
            self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.BatchNorm1d(16))

        def forward(self, x):
            return self.head(x) + self.body(x).mean(2)
    """
    assert _found(tmp_path, body) == [("Net.head[2]", 16, "nn.Flatten")]


def test_forward_on_a_linear_output_and_a_flatten(tmp_path):
    body = """
    @dataclass
    class Config:
        hidden: int = 16

    class Net(nn.Module):
        def __init__(self, cfg: Config):
            super().__init__()
            self.fc = nn.Linear(12, cfg.hidden)
            self.bn = nn.BatchNorm1d(cfg.hidden)
            self.conv = nn.Conv1d(2, 4, 3)
            self.bn_conv = nn.BatchNorm1d(4)
            self.bn_flat = nn.BatchNorm1d(4)

        def forward(self, x, s):
            h = self.bn(self.fc(x))
            t = self.bn_conv(self.conv(s))
            t = t.view(t.size(0), -1)
            return h, self.bn_flat(t)
    """
    assert _found(tmp_path, body, build="Net(Config())") == [
        ("Net.bn", 16, "`self.fc(...)` (nn.Linear)"),
        ("Net.bn_flat", 4, "`t.view(t.size(0), -1)`"),
    ]


def test_name_assigned_two_statements_before_is_unknown(tmp_path):
    body = """
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(12, 8)
            self.bn = nn.BatchNorm1d(8)

        def forward(self, x):
            h = self.fc(x)
            h = h.unsqueeze(-1)
            return self.bn(h)
    """
    assert _found(tmp_path, body) == []


def test_builder_helper_with_appends_and_one_value(tmp_path):
    body = """
    def mlp(in_dim, hidden, out_dim):
        layers = []
        layers.append(nn.Linear(in_dim, hidden))
        layers.append(nn.BatchNorm1d(hidden))
        layers.append(nn.ReLU())
        layers.append(nn.Linear(hidden, out_dim))
        return nn.Sequential(*layers)

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.projector = mlp(12, 32, 4)

        def forward(self, x):
            return self.projector(x)
    """
    assert _found(tmp_path, body) == [("Net.projector[1]", 32, "nn.Linear")]


def test_builder_helper_called_with_different_values_is_unknown(tmp_path):
    body = """
    def mlp(in_dim, hidden):
        return nn.Sequential(*[nn.Linear(in_dim, hidden), nn.BatchNorm1d(hidden), nn.ReLU()])

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.a = mlp(12, 16)
            self.b = mlp(16, 64)

        def forward(self, x):
            return self.b(self.a(x))
    """
    assert _found(tmp_path, body) == []


def test_list_of_layers_not_made_into_a_sequential_is_unknown(tmp_path):
    body = """
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.layers = nn.ModuleList([nn.Linear(12, 16), nn.BatchNorm1d(16)])

        def forward(self, x):
            for layer in self.layers:
                x = layer(x)
            return x
    """
    assert _found(tmp_path, body) == []


def test_argparse_default(tmp_path):
    body = SEQUENTIAL.format(c=64)
    engine = """
    def main(argv=None):
        parser = argparse.ArgumentParser()
        parser.add_argument("--hidden", type=int, default=16)
        args = parser.parse_args(argv)
        model = ModuleValidator.fix(Net(hidden=args.hidden))
        optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
        PrivacyEngine().make_private(module=model, optimizer=optimizer, data_loader=None,
                                     noise_multiplier=1.0, max_grad_norm=1.0)
    """
    assert _found(tmp_path, body, engine=engine) == [("Net.head[1]", 16, "nn.Linear")]


def test_frozen_or_affine_false_is_kept_by_the_fix(tmp_path):
    body = """
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.head = nn.Sequential(nn.Linear(12, 16), nn.BatchNorm1d(16, affine=False), nn.Linear(16, 2))

        def forward(self, x):
            return self.head(x)
    """
    assert _found(tmp_path, body) == []

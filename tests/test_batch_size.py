"""The question behind DPL110 (dp_lint/analysis/batch_size.py): where the model an engine call wraps
bakes the training loader's batch size into a shape, and when the evidence is missing (no answer)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import libcst as cst

from dp_lint.analysis.batch_size import fixed_batch_shapes, loader_batch_size
from dp_lint.analysis.project import Project
from dp_lint.analysis.values import UNKNOWN
from dp_lint.files.source import parse_text

HEADER = """
import argparse
import torch
import torch.nn as nn
from opacus import PrivacyEngine
from torch.utils.data import DataLoader

class Seq(nn.Module):
    def __init__(self, hidden, batch_size=16):
        super().__init__()
        self.h0 = torch.zeros(1, batch_size, hidden)
        self.fc = nn.Linear(hidden, 2)

    def forward(self, x):
        return self.fc(x + self.h0[0])

class Flat(nn.Module):
    def __init__(self, width, size):
        super().__init__()
        self.size = size
        self.fc = nn.Linear(width, 2)

    def forward(self, x):
        return self.fc(x.reshape(self.size, -1))
"""


def _shapes(tmp_path: Path, body: str) -> list[tuple[str, str, str | None, int]]:
    text = textwrap.dedent(HEADER) + textwrap.dedent(body)
    project = Project([parse_text(tmp_path / "train.py", "train", text)])
    (setup,) = project.training_setups
    return [(s.kind, s.size, s.attribute, s.batch_size) for s in fixed_batch_shapes(setup, project.index)]


def _engine(loader: str, poisson: str = "") -> str:
    return (f"    model, optimizer, loader = PrivacyEngine().make_private(module=model, optimizer=optimizer, "
            f"data_loader={loader}, noise_multiplier=1.0, max_grad_norm=1.0{poisson})\n")


def test_state_made_in_init_for_the_argparse_batch_size(tmp_path):
    body = """
    def main():
        parser = argparse.ArgumentParser()
        parser.add_argument("--batch-size", type=int, default=32)
        args = parser.parse_args()
        loader = DataLoader(range(64), batch_size=args.batch_size)
        model = Seq(8, args.batch_size)
        optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    """ + _engine("loader")
    assert _shapes(tmp_path, body) == [("state", "batch_size", "h0", 32)]


def test_same_name_evidence_for_a_parameter_not_named_batch_size(tmp_path):
    body = """
    def main():
        n = 16
        model = Flat(4, n)
        optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    """ + _engine("DataLoader(range(64), n)")
    assert _shapes(tmp_path, body) == [("reshape", "self.size", None, 16)]


def test_same_value_without_name_evidence_is_no_answer(tmp_path):
    body = """
    def main():
        model = Flat(4, 16)
        optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    """ + _engine("DataLoader(range(64), batch_size=16)")
    assert _shapes(tmp_path, body) == []


def test_another_value_is_no_answer(tmp_path):
    body = """
    def main():
        model = Seq(8, batch_size=8)
        optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    """ + _engine("DataLoader(range(64), batch_size=16)")
    assert _shapes(tmp_path, body) == []


def test_the_constructor_default_named_batch_size_counts(tmp_path):
    body = """
    def main():
        model = Seq(8)
        optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    """ + _engine("DataLoader(range(64), batch_size=16)")
    assert _shapes(tmp_path, body) == [("state", "batch_size", "h0", 16)]


def test_fixed_size_batches_or_unknown_sampling_is_no_answer(tmp_path):
    for poisson in (", poisson_sampling=False", ", poisson_sampling=flag", ", **extra"):
        body = """
        def main(flag, extra):
            model = Seq(8)
            optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
        """ + "    " + _engine("DataLoader(range(64), batch_size=16)", poisson).lstrip()
        assert _shapes(tmp_path, body) == [], poisson


def test_unknown_loader_is_no_answer(tmp_path):
    for loader in ("make_loader()", "DataLoader(range(64), batch_sampler=sampler)", "DataLoader(range(64))",
                   "DataLoader(range(64), batch_size=size)"):
        body = """
        def main(size, sampler):
            model = Seq(8)
            optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
        """ + "    " + _engine(loader).lstrip()
        assert _shapes(tmp_path, body) == [], loader


def test_loader_batch_size_reads_a_bound_name(tmp_path):
    text = textwrap.dedent(HEADER) + textwrap.dedent("""
    BATCH = 24
    def main():
        loader = DataLoader(range(64), batch_size=BATCH, shuffle=True)
        model = Seq(8)
        optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    """) + _engine("loader")
    project = Project([parse_text(tmp_path / "train.py", "train", text)])
    (setup,) = project.training_setups
    size = loader_batch_size(setup)
    assert size is not UNKNOWN and not isinstance(size, type(UNKNOWN))
    assert size.value == 24 and cst.Module([]).code_for_node(size.expr) == "BATCH"
    # Seq's default (16) is not the loader's 24: nothing is reported.
    assert fixed_batch_shapes(setup, project.index) == []


def test_module_constant_read_in_forward(tmp_path):
    text = textwrap.dedent("""
    import torch
    import torch.nn as nn
    from opacus import PrivacyEngine
    from torch.utils.data import DataLoader
    BATCH = 16

    class Tok(nn.Module):
        def __init__(self):
            super().__init__()
            self.tok = nn.Parameter(torch.zeros(1, 1, 4))
            self.fc = nn.Linear(4, 2)

        def forward(self, x):
            BATCH_LOCAL = 3
            a = self.tok.expand(BATCH, -1, -1)
            b = torch.zeros(BATCH_LOCAL, 4)
            return self.fc(torch.cat([a, x], 1).mean(1))

    def main():
        model = Tok()
        optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    """) + _engine("DataLoader(range(64), batch_size=BATCH)")
    project = Project([parse_text(tmp_path / "train.py", "train", text)])
    (setup,) = project.training_setups
    assert [(s.kind, s.size) for s in fixed_batch_shapes(setup, project.index)] == [("expand", "BATCH")]

"""The training-script question behind DPL211 (dp_lint/analysis/accumulation.py): which `.backward()` of the
private model runs while an earlier backward's per-sample gradients are not cleared, under Poisson sampling
(gradient accumulation every K batches, two backward calls before one step). Unknown stays unknown: no answer."""

from __future__ import annotations

import textwrap
from pathlib import Path

import libcst as cst
import pytest

from dp_lint.analysis.accumulation import ghost_forwards_per_backward, several_backward_per_step
from dp_lint.analysis.project import Project
from dp_lint.files.source import parse_text

HEADER = """
import argparse
from dataclasses import dataclass

import torch
import torch.nn as nn
from opacus import PrivacyEngine
from opacus.utils.batch_memory_manager import BatchMemoryManager
"""

ENGINE = """
    model, optimizer, loader = PrivacyEngine().make_private(
        module=model, optimizer=optimizer, data_loader=loader, noise_multiplier=1.0, max_grad_norm=1.0{extra})
"""


def _found(tmp_path: Path, body: str) -> list[tuple[str, str, str, int | None]]:
    text = textwrap.dedent(HEADER) + textwrap.dedent(body)
    project = Project([parse_text(tmp_path / "train.py", "train", text)])
    (setup,) = project.training_setups
    return [(_code(f.backward), _code(f.first), f.kind, f.steps) for f in several_backward_per_step(setup, project.index)]


def _code(node: cst.CSTNode) -> str:
    return cst.Module([]).code_for_node(node)


def _main(loop: str, extra: str = "", before: str = "") -> str:
    return "def main(model, optimizer, loader):" + before + ENGINE.format(extra=extra) + textwrap.indent(
        textwrap.dedent(loop), "    ")


ACCUMULATE = """
for step, (x, y) in enumerate(loader):
    loss = nn.functional.cross_entropy(model(x), y) / accumulation
    loss.backward()
    if (step + 1) % accumulation == 0:
        optimizer.step()
        optimizer.zero_grad()
"""


def test_accumulation_every_two_batches_raises_at_the_second_backward(tmp_path):
    body = _main(ACCUMULATE, before="\n    accumulation = 2")
    assert _found(tmp_path, body) == [("loss.backward()", "loss.backward()", "accumulation", 2)]


def test_accumulation_steps_from_an_argparse_default_and_a_config_field(tmp_path):
    argparse_body = """
def main(model, optimizer, loader):
    parser = argparse.ArgumentParser()
    parser.add_argument("--gradient_accumulation_steps", type=int, default=4)
    args = parser.parse_args()""" + ENGINE.format(extra="") + """
    for step, batch in enumerate(loader):
        outputs = model(batch[0])
        loss = outputs.sum()
        loss = loss / args.gradient_accumulation_steps
        loss.backward()
        if (step + 1) % args.gradient_accumulation_steps == 0 or step == len(loader) - 1:
            optimizer.step()
            optimizer.zero_grad()
"""
    assert _found(tmp_path, argparse_body) == [("loss.backward()", "loss.backward()", "accumulation", 4)]
    config_body = """
@dataclass
class Config:
    accum: int = 3

def main(model, optimizer, loader):
    cfg = Config()""" + ENGINE.format(extra="") + """
    for i, (x, y) in enumerate(loader):
        (model(x).sum() / cfg.accum).backward()
        if i % cfg.accum == 0:
            optimizer.step()
            model.zero_grad()
"""
    assert _found(tmp_path, config_body) == [("(model(x).sum() / cfg.accum).backward()",
                                              "(model(x).sum() / cfg.accum).backward()", "accumulation", 3)]


def test_one_accumulation_step_or_an_unknown_one_gives_no_answer(tmp_path):
    assert _found(tmp_path, _main(ACCUMULATE, before="\n    accumulation = 1")) == []
    assert _found(tmp_path, _main(ACCUMULATE.replace("accumulation", "k"))) == []  # a parameter: unknown
    # (a parameter of `main` is not read: `accumulation` is not defined at all)
    assert _found(tmp_path, _main(ACCUMULATE)) == []


def test_without_poisson_sampling_or_in_ghost_mode_nothing_raises(tmp_path):
    before = "\n    accumulation = 2"
    assert _found(tmp_path, _main(ACCUMULATE, ", poisson_sampling=False", before)) == []
    assert _found(tmp_path, _main(ACCUMULATE, ", poisson_sampling=flag", before)) == []  # unknown
    assert _found(tmp_path, _main(ACCUMULATE, ', grad_sample_mode="ghost"', before)) == []


def test_two_backward_calls_before_one_step(tmp_path):
    loop = """
for real, fake in loader:
    optimizer.zero_grad()
    err_real = nn.functional.binary_cross_entropy_with_logits(model(real), torch.ones(len(real), 1))
    err_real.backward()
    err_fake = nn.functional.binary_cross_entropy_with_logits(model(fake), torch.zeros(len(fake), 1))
    err_fake.backward()
    optimizer.step()
"""
    assert _found(tmp_path, _main(loop)) == [("err_fake.backward()", "err_real.backward()", "several", None)]


def test_summed_losses_or_a_zero_grad_after_the_step_are_clean(tmp_path):
    summed = """
for real, fake in loader:
    optimizer.zero_grad()
    err = model(real).mean() - model(fake).mean()
    err.backward()
    optimizer.step()
"""
    assert _found(tmp_path, _main(summed)) == []
    # a second backward through the model after the step, once `zero_grad()` cleared it (Opacus' DCGAN)
    cleared = """
for real, fake in loader:
    optimizer.zero_grad()
    model(real).mean().backward()
    optimizer.step()
    optimizer.zero_grad()
    generator_loss = -model(fake).mean()
    generator_loss.backward()
"""
    assert _found(tmp_path, _main(cleared)) == []


def test_a_backward_not_computed_from_the_model_does_not_count(tmp_path):
    loop = """
for x, y in loader:
    optimizer.zero_grad()
    model(x).sum().backward()
    other = generator(x).sum()
    other.backward()
    optimizer.step()
"""
    assert _found(tmp_path, _main(loop)) == []


def test_shapes_it_cannot_follow_give_no_answer(tmp_path):
    before = "\n    accumulation = 2"
    unknown_test = ACCUMULATE.replace("(step + 1) % accumulation == 0", "should_step(step)")
    assert _found(tmp_path, _main(unknown_test, before=before)) == []
    helper = ACCUMULATE.replace("        optimizer.zero_grad()", "        clear(optimizer)")
    helper = helper.replace("    loss.backward()", "    loss.backward()\n    clear(optimizer)")
    assert _found(tmp_path, _main(helper, before=before)) == []
    skipping = ACCUMULATE.replace("    loss.backward()", "    if x is None:\n        continue\n    loss.backward()")
    assert _found(tmp_path, _main(skipping, before=before)) == []
    nested = """
for x, y in loader:
    optimizer.zero_grad()
    for chunk in x.split(4):
        model(chunk).sum().backward()
    optimizer.step()
"""
    assert _found(tmp_path, _main(nested)) == []


def test_batch_memory_manager_gives_no_answer(tmp_path):
    loop = """
with BatchMemoryManager(data_loader=loader, max_physical_batch_size=4, optimizer=optimizer) as memory_safe:
    for step, (x, y) in enumerate(memory_safe):
        loss = model(x).sum() / accumulation
        loss.backward()
        if (step + 1) % accumulation == 0:
            optimizer.step()
            optimizer.zero_grad()
"""
    assert _found(tmp_path, _main(loop, before="\n    accumulation = 2")) == []


TRAINER = """
class Trainer:
    def __init__(self, model, optimizer, loader, accumulation_steps=2):
        self.accumulation_steps = accumulation_steps
        self.model, self.optimizer, self.loader = PrivacyEngine().make_private(
            module=model, optimizer=optimizer, data_loader=loader, noise_multiplier=1.0, max_grad_norm=1.0)

    def training_loss(self, x, y):
        return nn.functional.cross_entropy(self.model(x), y)

    def fit(self):
        for step, (x, y) in enumerate(self.loader):
            loss = self.training_loss(x, y) / self.accumulation_steps
            loss.backward()
            if (step + 1) % self.accumulation_steps == 0:
                self.optimizer.step()
                self.optimizer.zero_grad()

def main(model, optimizer, loader):
    Trainer(model, optimizer, loader).fit()
"""


def test_a_trainer_class_accumulating_in_fit(tmp_path):
    # `self.accumulation_steps` is what the trainer's one construction stores (the unpacking of the engine
    # call's result into other attributes does not write it)
    assert _found(tmp_path, TRAINER) == [("loss.backward()", "loss.backward()", "accumulation", 2)]
    assert _found(tmp_path, TRAINER.replace("Trainer(model, optimizer, loader)",
                                            "Trainer(model, optimizer, loader, accumulation_steps=1)")) == []


def test_a_backward_with_the_hooks_disabled_stores_nothing(tmp_path):
    loop = """
for real, fake in loader:
    optimizer.zero_grad()
    model(torch.cat([real, fake])).mean().backward()
    optimizer.step()
    model.disable_hooks()
    (-model(fake).mean()).backward()
    model.enable_hooks()
"""
    assert _found(tmp_path, _main(loop)) == []
    assert _found(tmp_path, _main(loop.replace("    model.disable_hooks()\n", ""))) == [
        ("(-model(fake).mean()).backward()", "model(torch.cat([real, fake])).mean().backward()", "several", None)]


# -- ghost mode (DPL217): accumulation raises nothing, the accountant counts one batch per step -------------

GHOST_ENGINE = """
    model, optimizer, criterion, loader = PrivacyEngine().make_private(
        module=model, optimizer=optimizer, data_loader=loader, criterion=nn.CrossEntropyLoss(),
        noise_multiplier=1.0, max_grad_norm=1.0, grad_sample_mode="ghost"{extra})
"""

GHOST_ACCUMULATE = ACCUMULATE.replace("nn.functional.cross_entropy", "criterion")


def _ghost(tmp_path: Path, loop: str, accumulation: str, extra: str = "") -> list[tuple[str, int | None]]:
    from dp_lint.analysis.accumulation import ghost_accumulation

    body = ("def main(model, optimizer, loader):\n    accumulation = " + accumulation
            + GHOST_ENGINE.format(extra=extra) + textwrap.indent(textwrap.dedent(loop), "    "))
    project = Project([parse_text(tmp_path / "train.py", "train", textwrap.dedent(HEADER) + body)])
    (setup,) = project.training_setups
    return [(_code(f.backward), f.steps) for f in ghost_accumulation(setup, project.index)]


def test_ghost_accumulation_with_and_without_poisson(tmp_path):
    assert _ghost(tmp_path, GHOST_ACCUMULATE, "2") == [("loss.backward()", 2)]
    assert _ghost(tmp_path, GHOST_ACCUMULATE, "4", ", poisson_sampling=False") == [("loss.backward()", 4)]


def test_ghost_accumulation_of_one_or_unknown_is_not_reported(tmp_path):
    assert _ghost(tmp_path, GHOST_ACCUMULATE, "1") == []
    assert _ghost(tmp_path, GHOST_ACCUMULATE, "int(input())") == []


def test_several_backward_per_step_leaves_ghost_mode_to_ghost_accumulation(tmp_path):
    body = ("def main(model, optimizer, loader):\n    accumulation = 2" + GHOST_ENGINE.format(extra="")
            + textwrap.indent(textwrap.dedent(GHOST_ACCUMULATE), "    "))
    project = Project([parse_text(tmp_path / "train.py", "train", textwrap.dedent(HEADER) + body)])
    (setup,) = project.training_setups
    assert several_backward_per_step(setup, project.index) == []


# -- ghost mode: the private model called twice before one backward (DPL219's script shape) ------------------

TWO_VIEW_ENGINE = """
    model, optimizer, criterion, loader = PrivacyEngine().make_private(
        module=model, optimizer=optimizer, data_loader=loader, criterion=nn.CrossEntropyLoss(),
        noise_multiplier=1.0, max_grad_norm=1.0, grad_sample_mode={mode})
"""

TWO_VIEWS = """
for a, b, y in loader:
    optimizer.zero_grad()
    {first}
    {second}
    loss.backward()
    optimizer.step()
"""


def _ghost_forwards(tmp_path: Path, first: str, second: str, mode: str = '"ghost"') -> list[tuple[str, str]]:
    loop = textwrap.dedent(TWO_VIEWS).replace("{first}", first).replace("{second}", second)
    body = "def main(model, optimizer, loader):" + TWO_VIEW_ENGINE.format(mode=mode) + textwrap.indent(loop, "    ")
    project = Project([parse_text(tmp_path / "train.py", "train", textwrap.dedent(HEADER) + body)])
    (setup,) = project.training_setups
    return [(_code(f.first), _code(f.second)) for f in ghost_forwards_per_backward(setup, project.index)]


def test_two_forwards_before_the_backward_in_ghost_mode(tmp_path):
    found = _ghost_forwards(tmp_path, "za = model(a)", "loss = criterion(za, y) + criterion(model(b), y)")
    assert found == [("model(a)", "model(b)")]


def test_both_forwards_inside_the_backwards_expression(tmp_path):
    found = _ghost_forwards(tmp_path, "pass", "loss = criterion(model(a), y) + criterion(model(b), y)")
    assert found == [("model(a)", "model(b)")]


@pytest.mark.parametrize("first, second, mode", [
    ("za = model(a)", "loss = criterion(za, y)", '"ghost"'),                                   # one forward
    ("za = model(a)", "loss = criterion(za, y) + criterion(model(b), y)", '"hooks"'),          # hooks mode sums them
    ("with torch.no_grad():\n        target = model(b)", "loss = criterion(model(a), target)", '"ghost"'),
    ("if y.sum() > 0:\n        extra = model(b)", "loss = criterion(model(a), y)", '"ghost"'),  # may not run
    ("zs = [model(v) for v in (a, b)]", "loss = criterion(zs[0], y)", '"ghost"'),              # a comprehension
    ("za = model(a) if y.any() else model(b)", "loss = criterion(za, y)", '"ghost"'),          # one of them
    ("za = model(a)", "loss = criterion(za, y) + criterion(model(b), y)", "mode"),             # unknown mode
])
def test_no_second_counted_forward(tmp_path, first, second, mode):
    assert _ghost_forwards(tmp_path, first, second, mode) == []

"""The training-script question behind DPL213 (dp_lint/analysis/accumulation.py, `model_zero_grad_only`): a loop
that steps the DP optimizer every round and clears only with the private model's `zero_grad()`. Rounds not all in
sight, an optimizer `zero_grad()` anywhere in the round, ghost mode: no answer."""

from __future__ import annotations

import textwrap
from pathlib import Path

import libcst as cst
import pytest

from dp_lint.analysis.accumulation import model_zero_grad_only
from dp_lint.analysis.project import Project
from dp_lint.files.source import parse_text

HEADER = """
import torch
import torch.nn as nn
from opacus import PrivacyEngine
from opacus.utils.batch_memory_manager import BatchMemoryManager
"""

ENGINE = """
    model, optimizer, loader = PrivacyEngine().make_private(
        module=net, optimizer=optimizer, data_loader=loader, noise_multiplier=1.0, max_grad_norm=1.0{extra})
"""


def _found(tmp_path: Path, loop: str, extra: str = "") -> list[tuple[str, str]]:
    body = "def main(net, optimizer, loader):" + ENGINE.format(extra=extra) + textwrap.indent(
        textwrap.dedent(loop), "    ")
    project = Project([parse_text(tmp_path / "train.py", "train", textwrap.dedent(HEADER) + body)])
    (setup,) = project.training_setups
    return [(_code(f.zero_grad), _code(f.step)) for f in model_zero_grad_only(setup, project.index)]


def _code(node: cst.CSTNode) -> str:
    return cst.Module([]).code_for_node(node)


ONLY_MODEL = """
for x, y in loader:
    model.zero_grad()
    nn.functional.cross_entropy(model(x), y).backward()
    optimizer.step()
"""


@pytest.mark.parametrize("extra", ["", ", poisson_sampling=False", ", grad_sample_mode='functorch'"])
def test_the_models_zero_grad_alone_is_reported_with_the_step_that_raises(tmp_path, extra):
    assert _found(tmp_path, ONLY_MODEL, extra) == [("model.zero_grad()", "optimizer.step()")]


def test_after_the_step_with_arguments(tmp_path):
    loop = """
    for x, y in loader:
        loss = nn.functional.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()
        model.zero_grad(set_to_none=True)
    """
    assert _found(tmp_path, loop) == [("model.zero_grad(set_to_none=True)", "optimizer.step()")]


@pytest.mark.parametrize("loop", [
    # the optimizer's zero_grad too, before or after
    ONLY_MODEL.replace("model.zero_grad()", "model.zero_grad(); optimizer.zero_grad()"),
    ONLY_MODEL + "    optimizer.zero_grad()\n",
    # the step under a test (accumulation: DPL211's question), the clearing under a test
    ONLY_MODEL.replace("    optimizer.step()", "    if x.sum() > 0:\n        optimizer.step()"),
    ONLY_MODEL.replace("    model.zero_grad()", "    if y.sum() > 0:\n        model.zero_grad()"),
    # an unknown helper receives the optimizer: it may clear it
    ONLY_MODEL + "    log_state(optimizer)\n",
    # the original module's zero_grad is not the private model's
    ONLY_MODEL.replace("model.zero_grad()", "net.zero_grad()"),
    # no clearing at all, a continue, BatchMemoryManager
    ONLY_MODEL.replace("    model.zero_grad()\n", ""),
    ONLY_MODEL.replace("    optimizer.step()", "    if y.sum() > 0:\n        continue\n    optimizer.step()"),
    """
    with BatchMemoryManager(data_loader=loader, max_physical_batch_size=4, optimizer=optimizer) as batches:
        for x, y in batches:
            model.zero_grad()
            nn.functional.cross_entropy(model(x), y).backward()
            optimizer.step()
    """,
])
def test_no_answer_when_the_optimizer_may_be_cleared_or_the_rounds_are_not_in_sight(tmp_path, loop):
    assert _found(tmp_path, loop) == []


def test_ghost_mode_trains_with_the_models_zero_grad(tmp_path):
    assert _found(tmp_path, ONLY_MODEL, ", grad_sample_mode='ghost'") == []


def test_an_unknown_mode_gives_no_answer(tmp_path):
    assert _found(tmp_path, ONLY_MODEL, ", grad_sample_mode=MODE") == []

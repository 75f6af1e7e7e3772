"""The question behind DPL210 (dp_lint/analysis/extra_forwards.py): `unconsumed_forwards`, the
forwards of the private model in training mode with grad enabled that no `.backward()` consumes
before the next step of the private optimizer. Unknown stays unknown: no answer."""

from __future__ import annotations

import textwrap
from pathlib import Path

import libcst as cst

from dp_lint.analysis.extra_forwards import unconsumed_forwards
from dp_lint.analysis.project import Project
from dp_lint.files.source import parse_text

HEADER = """
import torch
import torch.nn as nn
from opacus import PrivacyEngine
"""


def _project(tmp_path: Path, body: str) -> Project:
    text = textwrap.dedent(HEADER) + textwrap.dedent(body)
    return Project([parse_text(tmp_path / "train.py", "train", text)])


def _found(tmp_path: Path, body: str) -> list[tuple[str, str, str | None, str, bool]]:
    project = _project(tmp_path, body)
    (setup,) = project.training_setups
    code = cst.Module([]).code_for_node
    return [(code(f.call), f.model, f.through, f.where, f.conditional)
            for f in unconsumed_forwards(setup, project.index)]


def _engine(mode: str = "hooks") -> str:
    # ghost mode's make_private takes the criterion and returns it as a fourth value
    criterion = "criterion, " if mode == "ghost" else ""
    argument = "criterion=nn.CrossEntropyLoss(), " if mode == "ghost" else ""
    return f"""
    model, optimizer, {criterion}loader = PrivacyEngine().make_private(
        module=model, optimizer=optimizer, data_loader=loader, noise_multiplier=1.0, max_grad_norm=1.0,
        {argument}grad_sample_mode="{mode}")
"""


LOOP = """
    for x, y in loader:
        optimizer.zero_grad()
        loss = nn.functional.cross_entropy(model(x), y)
        loss.backward()
        {between}
        optimizer.step()
        {after}
"""


def _main(between: str = "pass", after: str = "pass", before: str = "pass", mode: str = "hooks") -> str:
    return ("def main(model, optimizer, loader):" + _engine(mode) + f"    {before}\n"
            + LOOP.format(between=between, after=after))


def test_a_training_accuracy_forward_between_backward_and_step(tmp_path):
    body = _main(between="acc = (model(x).argmax(1) == y).float().mean()")
    assert _found(tmp_path, body) == [("model(x)", "model", None, "before-step", False)]


def test_a_forward_after_the_step_and_a_sanity_forward_before_the_loop(tmp_path):
    assert _found(tmp_path, _main(after="logits = model(x)")) == [("model(x)", "model", None, "after-step", False)]
    body = _main(before="print(model(torch.zeros(1, 4)).shape)")
    assert _found(tmp_path, body) == [("model(torch.zeros(1, 4))", "model", None, "before-loop", False)]


def test_a_forward_under_an_if_in_the_loop_is_conditional(tmp_path):
    body = _main(between="if True:\n            acc = model(x).argmax(1)")
    assert _found(tmp_path, body) == [("model(x)", "model", None, "before-step", True)]


def test_no_grad_inference_mode_and_a_decorated_helper_are_not_reported(tmp_path):
    for guard in ("torch.no_grad()", "torch.inference_mode()", "torch.set_grad_enabled(False)"):
        body = _main(between=f"with {guard}:\n            acc = model(x).argmax(1)")
        assert _found(tmp_path, body) == [], guard


def test_eval_mode_around_the_forward_is_not_reported(tmp_path):
    body = _main(between="model.eval()\n        acc = model(x).argmax(1)\n        model.train()")
    assert _found(tmp_path, body) == []


def test_a_second_forward_whose_loss_reaches_backward_is_consumed(tmp_path):
    body = "def main(model, optimizer, loader):" + _engine() + """
    for x, y in loader:
        optimizer.zero_grad()
        first = model(x).sum()
        second = model(x * 2).sum()
        (first + second).backward()
        optimizer.step()
"""
    assert _found(tmp_path, body) == []


def test_a_result_that_goes_where_dp_lint_cannot_follow_is_unknown(tmp_path):
    for escape in ("history.append(model(x))", "acc = meter.update(model(x))", "logs[\"acc\"] = model(x)",
                   "print(meter.update(model(x)))", "acc = model(x)\n        meter.update(acc)"):
        assert _found(tmp_path, "history, logs = [], {}\n" + _main(between=escape)) == [], escape


def test_modes_whose_hooks_do_not_record_every_forward_give_no_answer(tmp_path):
    assert _found(tmp_path, _main(between="acc = model(x).argmax(1)", mode="ew")) == []
    assert _found(tmp_path, _main(between="acc = model(x).argmax(1)", mode="ghost")) == [
        ("model(x)", "model", None, "before-step", False)]


def test_a_project_function_the_model_and_optimizer_are_passed_to(tmp_path):
    body = """
def train_one_epoch(net, loader, opt):
    for x, y in loader:
        opt.zero_grad()
        out = net(x)
        out.sum().backward()
        opt.step()
        preds = net(x).argmax(1)

def main(model, optimizer, loader):""" + _engine() + """
    train_one_epoch(model, loader, optimizer)
"""
    assert _found(tmp_path, body) == [("net(x)", "net", "train_one_epoch", "after-step", False)]


def test_a_trainer_method_using_the_private_model_attribute(tmp_path):
    body = """
class Trainer:
    def __init__(self, model, optimizer, loader):
        self.model, self.optimizer, self.loader = PrivacyEngine().make_private(
            module=model, optimizer=optimizer, data_loader=loader, noise_multiplier=1.0, max_grad_norm=1.0)

    def fit(self):
        for x, y in self.loader:
            self.optimizer.zero_grad()
            self.model(x).sum().backward()
            train_logits = self.model(x)
            self.optimizer.step()
"""
    assert _found(tmp_path, body) == [("self.model(x)", "self.model", "self.fit", "before-step", False)]


def test_no_training_loop_after_the_call_means_no_answer(tmp_path):
    body = "def main(model, optimizer, loader):" + _engine() + """
    logits = model(torch.zeros(1, 4))
"""
    assert _found(tmp_path, body) == []

"""DPL211 several-backward-per-step: see README.md."""

from __future__ import annotations

from collections.abc import Iterator

import libcst as cst

from dp_lint.analysis.accumulation import SeveralBackward, several_backward_per_step
from dp_lint.analysis.project import Project
from dp_lint.analysis.training import TrainingSetup
from dp_lint.catalogue.rule import FixAvailability, Rule
from dp_lint.core.findings import Confidence, Finding

_ERROR = ("`ValueError: Poisson sampling is not compatible with grad accumulation. You need to call "
          "optimizer.step() after every forward/backward pass or consider using BatchMemoryManager`")


class SeveralBackwardPerStep(Rule):
    code = "DPL211"
    name = "several-backward-per-step"
    summary = "Several backward calls of the private model per step under Poisson sampling: the second one raises"
    fix_availability = FixAvailability.NONE
    opacus_behaviours = ("poisson-forbids-grad-accumulation",)

    def check(self, project: Project) -> Iterator[Finding]:
        for setup in project.training_setups:
            for found in several_backward_per_step(setup, project.index):
                yield self.report(found.backward, _message(found), file=found.module.file,
                                  confidence=Confidence.HIGH, help=_help(found, setup))


def _message(found: SeveralBackward) -> str:
    for call in (_code(found.backward), ".backward()"):
        if found.kind == "accumulation":
            text = (f"`{call}` runs {found.steps} times per `{found.optimizer}.step()` under Poisson sampling: "
                    f"its second call raises ValueError.")
        else:
            first = found.module.file.span(found.first)[0].row
            text = (f"`{call}` follows the backward on line {first} before any `zero_grad()`, under Poisson "
                    f"sampling: it raises ValueError.")
        if len(text) <= 120:
            break
    return text


def _help(found: SeveralBackward, setup: TrainingSetup) -> str:
    engine = f"`{setup.engine.kind.value}` at {setup.engine.label()}"
    if found.kind == "accumulation":
        fix = (f"Drop the manual accumulation: give the data loader the logical batch size ({found.steps} times the "
               f"physical one) and split its Poisson-sampled batches with `BatchMemoryManager(data_loader=..., "
               f"max_physical_batch_size=..., optimizer={found.optimizer})`, calling `step()` after every backward; "
               f"or pass `poisson_sampling=False` to {engine}, which accumulates (the accountant then counts each "
               f"step at {found.steps} times the sample rate, measured) but gives up Poisson sampling, which the "
               f"accountant still assumes.")
    else:
        fix = ("Sum the losses and call `.backward()` once (`(loss_real + loss_fake).backward()`, as Opacus' DCGAN "
               "example does), or clear the per-sample gradients with `zero_grad()` before a backward whose "
               "gradients are not meant for this step.")
    return (f"{fix} {engine} samples batches with Poisson sampling (`poisson_sampling=True`, the default), and then "
            f"Opacus forbids accumulating per-sample gradients: a backward that finds those of an earlier backward "
            f"(only `zero_grad()` clears them, not `step()`) raises {_ERROR} (measured, opacus 1.4.1-1.6.0, hooks and "
            f"functorch modes; two backward calls on one forward with `retain_graph=True` raise `IndexError: pop "
            f"from empty list` instead).")


def _code(node: cst.CSTNode) -> str:
    return cst.Module([]).code_for_node(node)

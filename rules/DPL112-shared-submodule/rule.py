"""DPL112 shared-submodule.

Finds: in a class's `__init__`, a module object with trainable parameters handed to a second
parent that registers it as its own submodule, while a first parent already holds it
(`self.cpe1 = ConvPosEnc(d)` and `self.block = SerialBlock(shared_cpe=self.cpe1)`, which stores
`self.cpe = shared_cpe`; or one local module given to two children).

Why Opacus breaks: GradSampleModule walks `children()` recursively and hooks each trainable
layer it meets; a module under two parents is met twice, so two sets of hooks accumulate its
per-sample gradients twice: `grad_sample` is a multiple of the true one, silently (clipping and
noise are calibrated to the wrong gradient).

Fix: none automatic (which parent should own it is a design choice). Keep one owner and hand
the other a plain callable or the owner itself.

Confidence: high; the child's `self.<attr> = <parameter>` is read from the source.
"""

from __future__ import annotations

from collections.abc import Iterator

from dp_lint.analysis.project import Project
from dp_lint.analysis.sharing import SharedModules
from dp_lint.catalogue.rule import Rule
from dp_lint.core.findings import Confidence, Finding


class SharedSubmodule(Rule):
    code = "DPL112"
    name = "shared-submodule"
    summary = "One module registered under two parents: Opacus hooks it twice, per-sample gradients silently doubled"
    opacus_behaviours = ("shared-submodule-hooked-per-parent",)

    def check(self, project: Project) -> Iterator[Finding]:
        for shared in SharedModules(project).registrations():
            yield self.report(
                shared,
                self._message(shared.module, shared.second),
                help=(
                    f"Keep one owner and pass the other a callable (or the owner). {shared.first} already holds "
                    f"it, and it is registered again as {shared.second}: Opacus hooks a module once per parent, so its per-sample gradients are accumulated twice "
                    f"(measured: exactly 2x) — clipping and noise silently use the wrong gradient."
                ),
                confidence=Confidence.HIGH,
            )

    @staticmethod
    def _message(module: str, second: str) -> str:
        named = f"{module} is also registered as {second}: gradients doubled."
        # A long second path goes to the help, which names both registrations.
        return named if len(named) <= 120 else f"{module} is registered under a second parent: gradients doubled."

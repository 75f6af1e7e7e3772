"""DPL001 detach-on-trainable-output.

Finds: in `forward` (and the `self` methods and project functions it calls), a call of
a trainable submodule, made with grad enabled, whose output reaches what `forward`
returns only through stop-gradient operations (`.detach()`, `.detach_()`, `.data`,
`torch.Tensor.detach(t)`, a helper that detaches, a read inside `torch.no_grad()`).

Why Opacus breaks: the forward hook of every trainable layer in that call counts it
(`_forward_counter += 1`); no gradient ever comes back through a detached output, so
the backward hook never runs for it, the counter never returns to zero, `grad_sample`
is never published and `DPOptimizer.step()` raises
`ValueError: Per sample gradient is not initialized`. When the same module is called
again with gradient, the LIFO activation stack also pairs gradients with the wrong
inputs.

Confidence: high when the submodule's class is visible and owns parameters; medium
when it comes from outside (a constructor argument, another library) and nothing in
the project freezes it.
"""

from __future__ import annotations

from dp_lint.findings import Confidence
from dp_lint.rule import Rule


class DetachOnTrainableOutput(Rule):
    code = "DPL001"
    name = "detach-on-trainable-output"
    summary = "Stop-gradient on the output of a trainable submodule call: Opacus raises at step()"

    def check(self, project):
        for cls in project.module_classes():
            flow = project.gradient_flow(cls)
            if not flow.analyzed or not flow.has_outputs:
                continue
            model = project.modules.model(cls)
            for site in flow.call_sites:
                if flow.reaches_with_gradient(site):
                    continue
                for stop in flow.stops_for(site):
                    sub = model.submodules[site.attr]
                    yield self.finding(
                        project,
                        stop.file,
                        stop.node,
                        self._message(site.attr, sub.description, stop.how),
                        confidence=Confidence.HIGH if site.confident else Confidence.MEDIUM,
                    )

    @staticmethod
    def _message(attr: str, description: str, how: str) -> str:
        return (
            f"{how} stops the gradient of `self.{attr}(...)` ({description}), whose output reaches "
            f"the result of forward() only through this stop-gradient: Opacus counts the call but "
            f"never gets its backward, and optimizer.step() raises "
            f"`ValueError: Per sample gradient is not initialized`. "
            f"Run this call under `with torch.no_grad():` instead."
        )

"""DPL219 ghost-parameter-reused: see README.md."""

from __future__ import annotations

from collections.abc import Iterator

from dp_lint.analysis.accumulation import GhostSecondForward, ghost_forwards_per_backward
from dp_lint.analysis.extra_forwards import unconsumed_forwards
from dp_lint.analysis.ghost_reuse import GhostReusedLayer, counted_layer_of, ghost_reused_layers
from dp_lint.analysis.project import Project
from dp_lint.catalogue.rule import FixAvailability, Rule
from dp_lint.core.findings import Confidence, Finding

_ERROR = "`NotImplementedError: Parameter tying is not supported with Ghost Clipping`"


class GhostParameterReused(Rule):
    code = "DPL219"
    name = "ghost-parameter-reused"
    summary = ("In ghost mode, an nn.Linear/nn.Embedding called twice per forward or tied to another layer: the "
               "forward raises")
    fix_availability = FixAvailability.NONE
    opacus_behaviours = ("ghost-parameter-serves-two-calls",)

    def check(self, project: Project) -> Iterator[Finding]:
        none: list[GhostReusedLayer] = []
        for found in project.guarded("ghost-mode layer reuse", lambda: ghost_reused_layers(project), none):
            yield self._finding(found)
        for setup in project.training_setups:
            forwards = ghost_forwards_per_backward(setup, project.index)
            layer = counted_layer_of(project, setup.engine) if forwards else None
            if layer is None:
                continue
            unconsumed = {id(f.call) for f in unconsumed_forwards(setup, project.index)}  # DPL210's finding
            for found_forward in forwards:
                if id(found_forward.first) not in unconsumed and id(found_forward.second) not in unconsumed:
                    yield self._second_forward(found_forward, layer, setup.engine.label())

    def _second_forward(self, found: GhostSecondForward, layer: str, engine: str) -> Finding:
        message = (f"`{found.model}` is called a second time before its backward in ghost mode: this forward raises "
                   f"NotImplementedError.")
        if len(message) > 120:
            message = "The private model is called twice before one backward in ghost mode: this forward raises."
        help_text = (f"Ghost clipping (`grad_sample_mode=\"ghost\"`, {engine}) counts the forward passes each "
                     f"trainable `nn.Linear`/`nn.Embedding` parameter serves until the backward (`{layer}` is one), "
                     f"and the second forward of this round raises {_ERROR} (measured, opacus 1.6.0). Train in "
                     f"hooks mode (`grad_sample_mode=\"hooks\"`, 3 return values, no `criterion=`), which sums the "
                     f"two passes' per-sample gradients, or run one forward per backward and step.")
        return self.report(found.second, message, file=found.module.file, help=help_text, confidence=Confidence.HIGH)

    def _finding(self, found: GhostReusedLayer) -> Finding:
        engine = found.engine.label()
        if found.tied_to is not None:
            message = f"`{found.path}` is tied to `{found.tied_to}` in ghost mode: the first forward raises NotImplementedError."
            short = "A tied weight serves two layers in ghost mode: the first forward raises NotImplementedError."
            what = f"the tie makes one parameter serve the calls of both `{found.path}` and `{found.tied_to}`"
            keep = "keep the tie and train in hooks mode"
        else:
            times = "twice" if found.calls == 2 else f"{found.calls} times"
            message = f"`{found.path}` runs {times} per forward in ghost mode: the first forward raises NotImplementedError."
            short = f"A {found.layer} runs {times} per forward in ghost mode: the first forward raises NotImplementedError."
            what = f"`{found.path}` is called {times} in one forward pass"
            keep = "keep the reuse and train in hooks mode"
        if len(message) > 120:
            # Within the model: `lm_head` rather than `TinyLMForCausalLM.lm_head`.
            message = message.replace(f"`{_root(found.path)}.", "`")
        if len(message) > 120:
            message = short
        help_text = (f"Ghost clipping (`grad_sample_mode=\"ghost\"`, {engine}) computes each {found.layer}'s "
                     f"per-sample gradient norm from the activations of one call, and {what}: Opacus raises "
                     f"{_ERROR} at the first training forward (measured, opacus 1.5.4 and 1.6.0). Either {keep} "
                     f"(`grad_sample_mode=\"hooks\"`, 3 return values, no `criterion=`; its per-sample gradients "
                     f"sum the calls' exactly), or give each call a layer of its own (a different model).")
        return self.report(found.node, message, file=found.file, help=help_text, confidence=Confidence.HIGH)


def _root(path: str) -> str:
    return path.split(".", 1)[0]

"""DPL109 trainable-layer-with-buffers: see README.md."""

from __future__ import annotations

from collections.abc import Iterator

from dp_lint.analysis.buffers import BufferedTrainableLayer, trainable_layers_with_buffers
from dp_lint.analysis.project import Project
from dp_lint.catalogue.rule import FixAvailability, Rule
from dp_lint.core.findings import Confidence, Finding

_ERROR = "NotImplementedError: Model contains a trainable layer with buffers that Opacus doesn't currently support"


class TrainableLayerWithBuffers(Rule):
    code = "DPL109"
    name = "trainable-layer-with-buffers"
    summary = ("A module owning trainable parameters holds a buffer (its own or a submodule's): "
               "make_private refuses the model")
    fix_availability = FixAvailability.NONE
    opacus_behaviours = ("trainable-layer-with-buffers-refused",)

    def check(self, project: Project) -> Iterator[Finding]:
        none: list[BufferedTrainableLayer] = []
        for layer in project.guarded("trainable layers with buffers", lambda: trainable_layers_with_buffers(project), none):
            engine = layer.engine
            where = f"engine call at {engine.label()}" if engine is not None else "if the project makes it private"
            buffer = layer.buffer.rsplit(".", 1)[-1]
            yield self.report(
                layer.parameter_value.expr,
                f"`{layer.cls.name}` owns the trainable parameter `{layer.parameter}` and holds the buffer "
                f"`{layer.buffer}`: Opacus refuses the model.",
                help=(
                    f"Opacus computes the per-sample gradients of a module's own parameters only when the module "
                    f"holds no buffer, its submodules' included. Move `{layer.parameter}` into a submodule that "
                    f"holds no buffer (a small module whose `forward` takes the batch, e.g. returns "
                    f"`x + self.{layer.parameter}`), or compute `{buffer}` in `forward` instead of registering it "
                    f"({where}). Opacus raises at `make_private`: `{_ERROR}`."
                ),
                file=layer.parameter_value.writer.module.file,
                confidence=Confidence.HIGH if engine is not None else Confidence.MEDIUM,
            )

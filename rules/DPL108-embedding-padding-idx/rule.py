"""DPL108 embedding-padding-idx: see README.md."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import libcst as cst

from dp_lint.analysis.engine_calls import GradSampleMode
from dp_lint.analysis.layer_state import frozen_layer
from dp_lint.analysis.models import Tri
from dp_lint.analysis.project import Project
from dp_lint.catalogue.rule import FixAvailability, Rule
from dp_lint.core.findings import Confidence, Finding
from dp_lint.files.source import SourceFile

# nn.Embedding(num_embeddings, embedding_dim, padding_idx=None, max_norm=None, norm_type=2.0,
#              scale_grad_by_freq=False, sparse=False, ...)
_PADDING_IDX = ("padding_idx", 2)
_SCALE_GRAD_BY_FREQ = ("scale_grad_by_freq", 5)
# Measured on opacus 1.6.0: hooks and ew (ExpandedWeights) ignore both settings; functorch is exact.
# Ghost clipping was not measured (it keeps no per-sample gradients to compare).
_AFFECTED_MODES = (GradSampleMode.HOOKS, GradSampleMode.EW)


@dataclass(frozen=True)
class _Site:
    node: cst.CSTNode
    file: SourceFile


class EmbeddingPaddingIdx(Rule):
    code = "DPL108"
    name = "embedding-padding-idx"
    summary = ("nn.Embedding with padding_idx or scale_grad_by_freq: Opacus' per-sample gradients ignore them "
               "(silently wrong clipping)")
    fix_availability = FixAvailability.NONE
    opacus_behaviours = ("embedding-grad-sampler-ignores-padding-idx",)

    def check(self, project: Project) -> Iterator[Finding]:
        tree = project.layer_tree
        seen: set[int] = set()
        for layer in project.layer_uses:
            use, model = layer.use, layer.model
            call, module = use.call, use.module
            if use.name != "Embedding" or call is None or module is None or id(call) in seen:
                continue
            if use.kind.owns_parameters is not Tri.YES or frozen_layer(project, use):
                continue
            engine = model.engine
            if engine is not None:
                if engine.grad_sample_mode not in _AFFECTED_MODES:
                    continue
                confidence = Confidence.HIGH
                where = f"wrapped by `{engine.kind.value}` at {engine.label()}"
            else:
                confidence = Confidence.MEDIUM
                where = "in a model the project may wrap with make_private"
            padding = tree.setting(use, *_PADDING_IDX, None)
            scale = tree.setting(use, *_SCALE_GRAD_BY_FREQ, False)
            ignored = []
            settings = []
            if isinstance(padding, int) and not isinstance(padding, bool):
                settings.append(f"`padding_idx={padding}`")
                ignored.append(
                    f"`padding_idx={padding}` (the padding row gets a per-sample gradient wherever the "
                    f"padding token occurs, which PyTorch keeps at zero)")
            if scale is True:
                settings.append("`scale_grad_by_freq=True`")
                ignored.append(
                    "`scale_grad_by_freq=True` (each sample's gradient is not divided by the token "
                    "counts, which PyTorch does)")
            if not ignored:
                continue
            seen.add(id(call))
            yield self.report(
                _Site(call, module.file),
                f"`nn.Embedding` at `{use.path}`: Opacus ignores {' and '.join(settings)}: wrong gradients, silently.",
                help=(
                    f"Drop the setting and mask the padding positions yourself, or use "
                    f"`grad_sample_mode=\"functorch\"`, which computes them exactly. The layer is {where}; "
                    f"Opacus' embedding grad sampler ignores {' and '.join(ignored)}, so the per-sample gradients "
                    f"it clips and noises differ from PyTorch's, silently (measured)."
                ),
                confidence=confidence,
            )

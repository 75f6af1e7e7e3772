"""DPL004 dp-mha-batch-first-forward: see README.md (one code for the two batch-first bugs of the layer)."""

from __future__ import annotations

from collections.abc import Iterator

from dp_lint.analysis import knowledge as tk
from dp_lint.analysis.project import Project
from dp_lint.analysis.values import UNKNOWN
from dp_lint.catalogue.rule import Rule
from dp_lint.config.opacus_versions import holds
from dp_lint.core.findings import Confidence, Finding

STACK_CRASH = "dpmha-batch-first-stack-crash"
MULTIHEAD_FORWARD = "dpmha-batch-first-multihead-forward"


class DPMultiheadAttentionBatchFirstForward(Rule):
    code = "DPL004"
    name = "dp-mha-batch-first-forward"
    summary = ("DPMultiheadAttention(batch_first=True) is broken on old Opacus: torch.stack crash at step() "
               "before 1.5, wrong forward output with several heads on 1.5-1.6.0")
    opacus_behaviours = (STACK_CRASH, MULTIHEAD_FORWARD)

    def check(self, project: Project) -> Iterator[Finding]:
        found = project.opacus_version
        version = found.version
        tree = project.layer_tree
        for layer in project.layer_uses:
            use, model = layer.use, layer.model
            # After ModuleValidator.fix, torch's attention layers hold a DPMultiheadAttention with
            # their head count and batch_first (knowledge.VALIDATOR_FIXES).
            fixed = use.name in tk.ATTENTION_HOLDERS and model.engine is not None and model.engine.validator_fixed
            if (use.name != "DPMultiheadAttention" and not fixed) or use.call is None:
                continue
            if tree.batch_first(use) is not True:
                continue
            if holds(STACK_CRASH, version):
                if fixed:
                    continue  # not measured: ModuleValidator.fix itself fails there on torch >= 2.6
                engine_value, engine_text, confidence = project.engine_batch_first(model)
                if engine_value is True:
                    yield self.report(
                        use.call,
                        f"`DPMultiheadAttention` at `{use.path}` with batch_first=True on opacus {version}: "
                        f"step() raises RuntimeError.",
                        help=(
                            f"Upgrade to opacus >= 1.5 (then keep num_heads=1: several heads compute a wrong output "
                            f"up to 1.6.0), or keep the layer and the engine sequence-first (batch_first=False on "
                            f"both, [tokens, batch, dim] inputs). With {found.describe()}, a release before 1.5, and "
                            f"{engine_text}, the "
                            f"layer's internal linear layers still see sequence-first tensors and optimizer.step() "
                            f"fails with `RuntimeError: stack expects each tensor to be equal size ...` (opacus "
                            f"issue #650, fixed in 1.5 by PR #651)."
                        ),
                        file=use.file,
                        confidence=confidence,
                        behaviour=STACK_CRASH,
                    )
                continue
            if not holds(MULTIHEAD_FORWARD, version):
                continue
            keyword, position, default = tk.ATTENTION_HOLDERS.get(use.name, ("num_heads", 1, None)) if fixed \
                else ("num_heads", 1, 1)
            heads = tree.setting(use, keyword, position, UNKNOWN if default is None else default)
            if heads == 1:
                continue
            heads_text = "an unresolved number of heads" if heads is UNKNOWN else f"{keyword}={heads!s}"
            version_text = found.describe() if version else \
                "an opacus version dp-lint could not determine (assumed 1.5 to 1.6.0)"
            on_version = f"on opacus {version}" if version else "if opacus is 1.5 to 1.6.0"
            if fixed:
                message = (f"`{use.name}` at `{use.path}` becomes a wrong-output DPMultiheadAttention "
                           f"{on_version}.")
            else:
                message = (f"`{use.name}` at `{use.path}` with batch_first=True, {heads_text}: "
                           f"wrong output {on_version}.")
            fixed_text = ""
            if fixed and model.engine is not None:
                fixed_text = (
                    f" ModuleValidator.fix before `{model.engine.kind.value}` at {model.engine.label()} turns the "
                    f"layer into a DPMultiheadAttention with its heads and batch_first: its forward output is wrong."
                )
            yield self.report(
                use.call,
                message,
                help=(
                    f"Use batch_first=False with sequence-first inputs (and the engine's batch_first=False), or "
                    f"num_heads=1. The layer has batch_first=True and {heads_text}; with {version_text}, heads are not moved back before the output projection "
                    f"(~0.5 off nn.MultiheadAttention): training runs and per-sample gradients look exact for the "
                    f"wrong model, silently.{fixed_text}"
                ),
                file=use.file,
                confidence=Confidence.HIGH if version else Confidence.MEDIUM,
                behaviour=MULTIHEAD_FORWARD,
            )

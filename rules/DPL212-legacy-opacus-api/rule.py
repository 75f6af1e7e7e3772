"""DPL212 legacy-opacus-api: see README.md."""

from __future__ import annotations

from collections.abc import Iterator

from dp_lint.analysis.legacy_api import LegacyKind, LegacyUse
from dp_lint.analysis.project import Project
from dp_lint.catalogue.rule import FixAvailability, Rule
from dp_lint.core.findings import Confidence, Finding

_NEW_API = (
    "Opacus >= 1.0 builds the engine without arguments and wraps the training objects in one call: "
    "`privacy_engine = PrivacyEngine()`, then `model, optimizer, data_loader = privacy_engine.make_private("
    "module=model, optimizer=optimizer, data_loader=data_loader, noise_multiplier=..., max_grad_norm=...)` "
    "(the sample rate comes from the loader; `make_private_with_epsilon` for a target epsilon), "
    "`privacy_engine.get_epsilon(delta)` for the budget, `ModuleValidator` (opacus.validators) for the model "
    "checks, and `BatchMemoryManager` (opacus.utils.batch_memory_manager) instead of `virtual_step()`."
)

_MODULES = {
    "opacus.dp_model_inspector": "use `ModuleValidator.validate(model, strict=False)` from `opacus.validators`",
    "opacus.utils.module_modification": "use `model = ModuleValidator.fix(model)` from `opacus.validators` "
                                        "instead of `convert_batchnorm_modules(model)`",
}


class LegacyOpacusApi(Rule):
    code = "DPL212"
    name = "legacy-opacus-api"
    summary = ("the Opacus 0.x API (PrivacyEngine(model, ...), attach, dp_model_inspector, module_modification) "
               "on Opacus >= 1.0: TypeError, AttributeError or ImportError")
    fix_availability = FixAvailability.NONE
    opacus_behaviours = ("opacus-0x-api",)

    def check(self, project: Project) -> Iterator[Finding]:
        for use in project.legacy_api_uses:
            yield self.report(use.node, self._message(use), file=use.file, confidence=Confidence.HIGH,
                              help=self._help(use))

    @staticmethod
    def _message(use: LegacyUse) -> str:
        if use.kind is LegacyKind.CONSTRUCTOR:
            return f"`{use.written}(...)` with the Opacus 0.x arguments: Opacus >= 1.0 raises `TypeError` here."
        if use.kind is LegacyKind.METHOD:
            return f"`{use.written}` is the Opacus 0.x API: Opacus >= 1.0 raises `AttributeError` here."
        return f"`{use.written}` was removed in Opacus 1.0: this import raises `{use.error.split(':')[0]}`."

    @staticmethod
    def _help(use: LegacyUse) -> str:
        measured = f"raises `{use.error}` (measured, opacus 1.4.1, 1.5.4 and 1.6.0)."
        if use.kind is LegacyKind.IMPORT:
            return f"{_MODULES[use.written].capitalize()}; {_NEW_API} The import {measured}"
        if use.kind is LegacyKind.CONSTRUCTOR:
            moved = [k for k in use.keywords if k in ("noise_multiplier", "max_grad_norm")]
            hint = f" (pass `{'`, `'.join(moved)}` to `make_private`)" if moved else ""
            return (f"{_NEW_API}{hint} `PrivacyEngine.__init__` only takes `accountant` and `secure_mode`: "
                    f"the call {measured}")
        return f"{_NEW_API} The call {measured}"

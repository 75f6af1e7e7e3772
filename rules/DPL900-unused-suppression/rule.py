"""DPL900 unused-suppression: reported by the lint engine after suppressions are applied."""

from __future__ import annotations

from dp_lint.catalogue.rule import EngineReported, FixAvailability


class UnusedSuppression(EngineReported):
    code = "DPL900"
    name = "unused-suppression"
    summary = "A suppression comment (`# dp-lint: ignore[...]`, `# noqa: DPL...`) suppresses nothing."
    fix_availability = FixAvailability.SAFE

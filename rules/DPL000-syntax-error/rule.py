"""DPL000 syntax-error: reported by the lint engine for a file it cannot read, decode or parse."""

from __future__ import annotations

from dp_lint.catalogue.rule import EngineReported


class SyntaxErrorRule(EngineReported):
    code = "DPL000"
    name = "syntax-error"
    summary = "A file cannot be read, decoded or parsed, so it was not checked."

"""The JSON schema of the `[tool.dp-lint]` table, for editors' TOML validation and completion.

It is generated from the settings definitions (the keys `settings.parse_section` accepts, the
types of a `[[tool.dp-lint.verify]]` table, the defaults of `Config`) and shipped as
`dp_lint/config/schema.json`; `python -m dp_lint.config.schema` rewrites that file, and
tests/test_config_schema.py fails when it is out of step with this module or when the schema and
the configuration loader disagree about a sample configuration.

Like SchemaStore's tool schemas (ruff.json describes `[tool.ruff]`), its root is the table itself.
It is looser than the loader in one respect: the rule codes the catalogue has are not known at
this stage, so any code-shaped string (`DPL001`, a prefix such as `DPL1`, `ALL`) is accepted and
only `dp-lint` itself rejects a code that names no rule. References point into `definitions` at
the root only, which taplo (Even Better TOML) requires.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from dp_lint.config import settings

SCHEMA_PATH = Path(__file__).with_name("schema.json")
SCHEMA_ID = "https://github.com/your-org/dp-lint/raw/main/dp_lint/config/schema.json"
DOCS = "https://dp-lint.readthedocs.io/en/latest/configuration/"

# One line per key of `[tool.dp-lint]`: what it means (docs/configuration.md has the long form).
KEY_DESCRIPTIONS = {
    "cache-dir": "The folder of the result cache of `check`, relative to the configuration file "
                 "(default: `.dp_lint_cache` at the project root); `--no-cache` turns it off.",
    "select": "Rules to run: codes (`DPL001`), prefixes (`DPL1`) or `ALL`, in any case. Default: every rule.",
    "extend-select": "Rules added to `select`.",
    "ignore": "Rules removed from the selection (wins over `select` within one source).",
    "per-file-ignores": "Rules turned off in the files matching each glob (relative to the configuration's folder).",
    "exclude": "Files and folders never checked when walking a folder (.gitignore syntax); replaces the default list.",
    "extend-exclude": "Patterns added to `exclude`.",
    "include": "Files a folder walk checks (.gitignore syntax); replaces the default list.",
    "extend-include": "Patterns added to `include`.",
    "assume-batch-first": "The engine's batch_first assumed when the project has no make_private/GradSampleModule "
                          "call (DPL002).",
    "opacus-version": "The Opacus release the project runs on (default: the installed package, else a lock file, "
                      "else a pin).",
    "verify": "Models for `dp-lint verify`: one [[tool.dp-lint.verify]] table per model.",
}

VERIFY_DESCRIPTIONS = {
    "model": "The class or factory function to build: \"models.net:Net\" or \"src/models/net.py:Net\".",
    "run": "A training command to capture the model from (instead of `model`).",
    "args": "Positional arguments of the constructor.",
    "kwargs": "Keyword arguments of the constructor.",
    "inputs": "One input specification per forward() argument, such as \"float[B, 3, 32, 32]\".",
    "loss": "How the batch loss is made from the output: \"sum-of-squares\" (default), \"sum\", \"output\" "
            "or a function \"pkg.losses:my_loss\".",
    "batch_first": "The engine's batch_first for this model.",
    "loss_reduction": "The engine's loss_reduction (\"mean\" or \"sum\").",
    "grad_sample_mode": "The engine's grad_sample_mode: \"hooks\", \"functorch\", \"ew\" (or \"ghost\", checked "
                        "in hooks mode).",
}

_JSON_TYPES = {str: "string", list: "array", dict: "object", bool: "boolean"}


def _case_insensitive(word: str) -> str:
    return "".join(f"[{c.upper()}{c.lower()}]" if c.isalpha() else c for c in word)


def _code_list_pattern() -> str:
    """A string of comma-separated codes as `settings.split_codes` reads them: each part `ALL`, a
    prefix of `DPL` followed by up to three digits, or empty (skipped), with blanks around."""
    d, p, letter_l = (_case_insensitive(c) for c in "DPL")
    code = f"({_case_insensitive('ALL')}|{d}({p}({letter_l}[0-9]{{0,3}})?)?)?"
    part = rf"\s*{code}\s*"
    return f"^{part}(,{part})*$"


_CODES = {"type": "array", "items": {"type": "string", "pattern": _code_list_pattern()}}
_PATTERNS = {"type": "array", "items": {"type": "string"}}


def _default(key: str) -> Any:
    """The default of `key`, from `Config`'s defaults."""
    if key == "select":
        return ["ALL"]
    value = getattr(settings.Config(), key.replace("-", "_"))
    return list(value) if isinstance(value, tuple) else value


def _verify_table() -> dict:
    properties = {}
    for key, types in sorted(settings.VERIFY_KEYS.items()):
        entry: dict[str, Any] = {"type": _JSON_TYPES[types[0]], "description": VERIFY_DESCRIPTIONS[key]}
        if key == "inputs":
            entry["items"] = {"type": "string"}
        properties[key] = entry
    return {
        "type": "object",
        "description": "One model for `dp-lint verify`.",
        "properties": properties,
        "additionalProperties": False,
        "anyOf": [{"required": ["model"]}, {"required": ["run"]}],
        "not": {"required": ["model", "run"]},
    }


def _key_schema(key: str, kind: str) -> dict:
    description = KEY_DESCRIPTIONS[key]
    # Inlined rather than referenced: draft-07 ignores the keywords next to a `$ref`.
    if kind == "codes":
        return {**_CODES, "description": description, "default": _default(key)}
    if kind == "patterns":
        return {**_PATTERNS, "description": description, "default": _default(key)}
    if kind == "bool":
        return {"type": "boolean", "description": description, "default": _default(key)}
    if kind == "version":
        return {"type": "string", "description": description,
                "pattern": r"^\s*" + settings.VERSION_PATTERN.lstrip("^").rstrip("$") + r"\s*$",
                "examples": ["1.6.0"]}
    if kind == "folder":
        return {"type": "string", "description": description, "minLength": 1}
    if kind == "per-file-ignores":
        return {"type": "object", "description": description, "default": {},
                "propertyNames": {"pattern": r"\S"},
                "additionalProperties": _CODES}
    if kind == "verify":
        return {"description": description,
                "oneOf": [{"$ref": "#/definitions/verify-target"},
                          {"type": "array", "items": {"$ref": "#/definitions/verify-target"}}]}
    raise ValueError(f"no schema for the setting kind {kind!r} of `{key}`")


def config_schema() -> dict:
    """The schema of `[tool.dp-lint]`, built from the settings definitions."""
    missing = set(settings.KEY_KINDS) ^ set(KEY_DESCRIPTIONS)
    missing |= set(settings.VERIFY_KEYS) ^ set(VERIFY_DESCRIPTIONS)
    if missing:
        raise ValueError(f"settings and their schema descriptions differ: {sorted(missing)}")
    return {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "$id": SCHEMA_ID,
        "title": "dp-lint",
        "description": f"The [tool.dp-lint] table of pyproject.toml ({DOCS}).",
        "type": "object",
        "properties": {key: _key_schema(key, kind) for key, kind in sorted(settings.KEY_KINDS.items())},
        "additionalProperties": False,
        "definitions": {"verify-target": _verify_table()},
    }


def schema_text() -> str:
    return json.dumps(config_schema(), indent=2, ensure_ascii=False) + "\n"


def main() -> int:
    SCHEMA_PATH.write_text(schema_text(), encoding="utf-8")
    print(SCHEMA_PATH)
    return 0


if __name__ == "__main__":
    sys.exit(main())

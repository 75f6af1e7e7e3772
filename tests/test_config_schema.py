"""The JSON schema of `[tool.dp-lint]` (dp_lint/config/schema.json): generated from the settings
definitions, committed in step with them, and in agreement with the configuration loader.

The loader's error cases (tests/test_config.py) are rejected by the schema too, except the two
things a schema cannot know: which rule codes the installed catalogue has, and whether a pattern
is valid .gitignore syntax. Valid configurations (the one in tests/test_config.py that sets every
key, the sample in docs/configuration.md) pass both.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest
from test_config import ERROR_CASES, KNOWN

from dp_lint.config import schema, settings
from dp_lint.config.settings import ConfigError, parse_section

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

jsonschema = pytest.importorskip("jsonschema")

REPO_ROOT = Path(__file__).resolve().parent.parent
VALIDATOR = jsonschema.Draft7Validator(json.loads(schema.SCHEMA_PATH.read_text(encoding="utf-8")))

EVERY_KEY = """
select = ["DPL0", "dpl101"]
extend-select = ["DPL900, DPL1"]
ignore = ["DPL003"]
per-file-ignores = { "tests/*" = ["DPL001"], "legacy.py" = ["ALL"] }
exclude = ["build"]
extend-exclude = ["generated/"]
include = ["*.py"]
extend-include = ["*.pyw"]
assume-batch-first = false
opacus-version = "1.4.1"

[[verify]]
model = "models:Net"
args = [1]
kwargs = { dim = 8 }
inputs = ["float[B, 8]"]
loss = "sum"
batch_first = true
loss_reduction = "mean"
grad_sample_mode = "hooks"

[[verify]]
run = "python train.py"
"""


def table(body: str) -> dict:
    """The [tool.dp-lint] table of a test body (written with `[[tool.dp-lint.verify]]` headers)."""
    data = tomllib.loads("[tool.dp-lint]\n" + body)
    return data["tool"]["dp-lint"]


def schema_errors(section: dict) -> list[str]:
    return [error.message for error in VALIDATOR.iter_errors(section)]


def test_committed_schema_is_generated_from_the_settings():
    committed = schema.SCHEMA_PATH.read_text(encoding="utf-8")
    assert committed == schema.schema_text(), (
        "dp_lint/config/schema.json is out of date: run `python -m dp_lint.config.schema` and commit it"
    )


def test_schema_is_a_valid_draft_7_schema_with_every_key():
    document = json.loads(schema.SCHEMA_PATH.read_text(encoding="utf-8"))
    jsonschema.Draft7Validator.check_schema(document)
    assert set(document["properties"]) == set(settings.KEY_KINDS)
    assert set(document["definitions"]["verify-target"]["properties"]) == set(settings.VERIFY_KEYS)
    assert document["properties"]["exclude"]["default"] == list(settings.DEFAULT_EXCLUDE)
    # taplo (Even Better TOML) resolves only references into the root's `definitions`.
    references = re.findall(r'"\$ref": "([^"]+)"', schema.SCHEMA_PATH.read_text(encoding="utf-8"))
    assert references and all(ref.startswith("#/definitions/") for ref in references)


def test_a_new_setting_without_a_description_fails_the_generation(monkeypatch):
    monkeypatch.setitem(settings.KEY_KINDS, "new-key", "bool")
    with pytest.raises(ValueError, match="new-key"):
        schema.config_schema()


def test_valid_configurations_pass_the_loader_and_the_schema(tmp_path):
    docs = (REPO_ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    sample = re.search(r"```toml\n(\[tool\.dp-lint\]\n.*?)```", docs, re.S)
    assert sample is not None
    sections = [table(EVERY_KEY.replace("[[verify]]", "[[tool.dp-lint.verify]]")),
                tomllib.loads(sample.group(1))["tool"]["dp-lint"]]
    for section in sections:
        parse_section(tmp_path / "pyproject.toml", section, KNOWN + ["DPL004"])
        assert schema_errors(section) == []


def _schema_cannot_tell(message: str) -> bool:
    # A code-shaped code the catalogue lacks, or a pattern pathspec refuses.
    unknown_code = re.search(r"unknown rule code or prefix ('DPL\d*'(, )?)+( \(|;|$)", message)
    return bool(unknown_code) or "invalid pattern" in message


@pytest.mark.parametrize("body, message", ERROR_CASES)
def test_the_schema_rejects_what_the_loader_rejects(tmp_path, body, message):
    section = table(body)
    with pytest.raises(ConfigError):
        parse_section(tmp_path / "pyproject.toml", section, KNOWN)
    errors = schema_errors(section)
    if _schema_cannot_tell(message):
        assert errors == [], errors
    else:
        assert errors, f"the schema accepts {body!r}, which the loader rejects: {message}"


@pytest.mark.parametrize("codes, ok", [
    (["DPL001", "dpl1", "ALL", "all", "D", " DPL001 , DPL002 "], True),
    (["E501"], False),
    (["DPL0011"], False),
    (["DPL001;DPL002"], False),
])
def test_code_pattern_follows_split_codes(codes, ok):
    assert (schema_errors({"select": codes}) == []) is ok

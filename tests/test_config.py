"""`[tool.dp-lint]`: keys, every error message, resolution per folder, overrides, `dp-lint config`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_cli import FLAGGED, invoke, project, use_rules, write  # noqa: F401 - fixtures

from dp_lint.config.settings import (
    DEFAULT_EXCLUDE,
    Config,
    ConfigError,
    ConfigResolver,
    Overrides,
    find_pyproject,
    load_config,
)

KNOWN = ["DPL000", "DPL001", "DPL002", "DPL003", "DPL101", "DPL102", "DPL900"]


def pyproject(folder: Path, body: str) -> Path:
    return write(folder / "pyproject.toml", "[tool.dp-lint]\n" + body)


def load(folder: Path, body: str) -> Config:
    return load_config(pyproject(folder, body), KNOWN)


def error_of(folder: Path, body: str) -> str:
    path = pyproject(folder, body)
    with pytest.raises(ConfigError) as raised:
        load_config(path, KNOWN)
    message = str(raised.value)
    assert message.startswith(f"{path}: "), message
    return message[len(f"{path}: "):]


# --- keys --------------------------------------------------------------------------


def test_every_key(tmp_path):
    config = load(tmp_path, """
select = ["DPL0", "dpl101"]
extend-select = ["DPL900"]
ignore = ["DPL003"]
per-file-ignores = { "tests/*" = ["DPL001"], "legacy.py" = ["ALL"] }
exclude = ["build"]
extend-exclude = ["generated/"]
assume-batch-first = false
opacus-version = "1.4.1"

[[tool.dp-lint.verify]]
model = "models:Net"
args = [1]
kwargs = { dim = 8 }
inputs = ["float[B, 8]"]
loss = "sum"
batch_first = true
loss_reduction = "mean"
grad_sample_mode = "hooks"

[[tool.dp-lint.verify]]
model = "models:Other"
""")
    assert config.select == ("DPL0", "DPL101")
    assert config.extend_select == ("DPL900",)
    assert config.ignore == ("DPL003",)
    assert config.per_file_ignores == (("tests/*", ("DPL001",)), ("legacy.py", ("ALL",)))
    assert config.exclude == ("build",)
    assert config.extend_exclude == ("generated/",)
    assert config.assume_batch_first is False
    assert config.opacus_version == "1.4.1"
    assert [t["model"] for t in config.verify_targets] == ["models:Net", "models:Other"]
    assert config.verify_targets[0]["kwargs"] == {"dim": 8}
    assert config.path == tmp_path / "pyproject.toml" and config.root == tmp_path
    assert config.has_section


def test_defaults():
    config = Config()
    assert config.select is None and config.ignore == () and config.exclude == DEFAULT_EXCLUDE
    assert config.assume_batch_first is True and config.opacus_version is None
    assert config.verify_targets == () and config.root is None
    assert config.enabled_codes(KNOWN) == frozenset(KNOWN)


def test_pyproject_without_the_table_gives_defaults_with_its_root(tmp_path):
    path = write(tmp_path / "pyproject.toml", "[project]\nname = 'x'\n")

    config = load_config(path, KNOWN)

    assert config == Config(path=path)
    assert config.root == tmp_path and not config.has_section


def test_config_is_hashable_even_with_verify_targets(tmp_path):
    config = load(tmp_path, '[[tool.dp-lint.verify]]\nmodel = "m:N"\n')
    assert hash(config) == hash(config)


# --- error messages ----------------------------------------------------------------


# Each body's error message (after the file name); tests/test_config_schema.py checks that the
# JSON schema rejects these bodies too.
ERROR_CASES = [
    ("selct = []\n", "unknown key `selct` in [tool.dp-lint] (did you mean `select`?); known keys: "
     "assume-batch-first, cache-dir, exclude, "
     "extend-exclude, extend-include, extend-select, ignore, include, opacus-version, per-file-ignores, select, "
     "verify"),
    ("assume_batch_first = true\n", "unknown key `assume_batch_first` in [tool.dp-lint] "
     "(did you mean `assume-batch-first`?); known keys:"),
    ('select = "DPL001"\n', '`select` in [tool.dp-lint] must be an array of rule codes (strings), '
     'got a string ("DPL001")'),
    ('ignore = [1]\n', "`ignore` in [tool.dp-lint] must be an array of rule codes (strings), got an array ([1])"),
    ('select = ["DPL999"]\n', "`select` in [tool.dp-lint]: unknown rule code or prefix 'DPL999'; "
     "known codes: DPL000, DPL001, DPL002, DPL003, DPL101, DPL102, DPL900"),
    ('extend-select = ["E501", "DPL7"]\n', "`extend-select` in [tool.dp-lint]: unknown rule code or "
     "prefix 'E501', 'DPL7'; known codes:"),
    ('ignore = ["X"]\n', "`ignore` in [tool.dp-lint]: unknown rule code or prefix 'X'"),
    ('exclude = "build"\n', '`exclude` in [tool.dp-lint] must be an array of patterns (strings), '
     'got a string ("build")'),
    ('extend-exclude = ["\\\\"]\n', "`extend-exclude` in [tool.dp-lint]: invalid pattern '\\\\':"),
    ('assume-batch-first = "yes"\n', '`assume-batch-first` in [tool.dp-lint] must be true or false, '
     'got a string ("yes")'),
    ("assume-batch-first = 1\n", "`assume-batch-first` in [tool.dp-lint] must be true or false, got an integer (1)"),
    ("opacus-version = 1.6\n", '`opacus-version` in [tool.dp-lint] must be a version string such as '
     '"1.6.0", got a number (1.6)'),
    ('opacus-version = "latest"\n', '`opacus-version` in [tool.dp-lint] must be a version string such '
     'as "1.6.0", got a string ("latest")'),
    ('per-file-ignores = ["tests/*"]\n', "`per-file-ignores` in [tool.dp-lint] must be a table of glob "
     'patterns to arrays of rule codes, got an array (["tests/*"])'),
    ('per-file-ignores = { "tests/*" = "DPL001" }\n', '`per-file-ignores."tests/*"` in [tool.dp-lint] '
     'must be an array of rule codes (strings), got a string ("DPL001")'),
    ('per-file-ignores = { "tests/*" = ["DPL998"] }\n', '`per-file-ignores."tests/*"` in [tool.dp-lint]: '
     "unknown rule code or prefix 'DPL998'"),
    ('per-file-ignores = { "" = ["DPL001"] }\n', "`per-file-ignores` in [tool.dp-lint]: a glob pattern "
     "must not be empty"),
    ('verify = "models:Net"\n', '`verify` in [tool.dp-lint] must be an array of tables '
     '([[tool.dp-lint.verify]]), got a string ("models:Net")'),
    ("exlude = []\n", "unknown key `exlude` in [tool.dp-lint] (did you mean `exclude`?); known keys:"),
    ("ignroe = []\n", "unknown key `ignroe` in [tool.dp-lint] (did you mean `ignore`?); known keys:"),
    ("colour = true\n", "unknown key `colour` in [tool.dp-lint]; known keys:"),
    ('select = ["DLP001"]\n', "`select` in [tool.dp-lint]: unknown rule code or prefix 'DLP001' "
     "(did you mean 'DPL001'?); known codes:"),
    ('ignore = ["DPL01", "DLP002"]\n', "`ignore` in [tool.dp-lint]: unknown rule code or prefix 'DPL01', "
     "'DLP002' (did you mean 'DPL001' for 'DPL01', 'DPL002' for 'DLP002'?); known codes:"),
    ('[[tool.dp-lint.verify]]\nmodle = "m:N"\n', "[[tool.dp-lint.verify]] number 1: unknown key `modle` "
     "(did you mean `model`?); "
     "known keys: args, batch_first, grad_sample_mode, inputs, kwargs, loss, loss_reduction, model"),
    ('[[tool.dp-lint.verify]]\nmodel = "m:N"\n[[tool.dp-lint.verify]]\nmodel = 3\n',
     "[[tool.dp-lint.verify]] number 2: `model` must be a string, got an integer (3)"),
    ('[[tool.dp-lint.verify]]\nmodel = "m:N"\nargs = {}\n', "[[tool.dp-lint.verify]] number 1: `args` must "
     "be an array, got a table ({})"),
    ('[[tool.dp-lint.verify]]\nmodel = "m:N"\nkwargs = []\n', "`kwargs` must be a table, got an array ([])"),
    ('[[tool.dp-lint.verify]]\nmodel = "m:N"\nbatch_first = "no"\n', '`batch_first` must be true or false, '
     'got a string ("no")'),
    ('[[tool.dp-lint.verify]]\nmodel = "m:N"\nloss_reduction = 1\n', "`loss_reduction` must be a string"),
    ('[[tool.dp-lint.verify]]\nmodel = "m:N"\ngrad_sample_mode = false\n', "`grad_sample_mode` must be a string"),
    ('[[tool.dp-lint.verify]]\nmodel = "m:N"\nloss = []\n', "`loss` must be a string"),
    ('[[tool.dp-lint.verify]]\nmodel = "m:N"\ninputs = "float[B]"\n', "`inputs` must be an array"),
    ('[[tool.dp-lint.verify]]\nmodel = "m:N"\ninputs = [1]\n', '`inputs` must be an array of strings such as '
     '"float[B, 16]"'),
    ('[[tool.dp-lint.verify]]\nargs = []\n', "[[tool.dp-lint.verify]] number 1: `model` is required "
     "(the class or factory function to build)"),
]


@pytest.mark.parametrize("body, message", ERROR_CASES)
def test_error_messages_name_the_file_and_the_key(tmp_path, body, message):
    error = error_of(tmp_path, body)
    assert message in error
    assert error.startswith(message) or error.startswith("[[tool.dp-lint.verify]] number ")


def test_invalid_toml(tmp_path):
    path = write(tmp_path / "pyproject.toml", "[tool.dp-lint\n")
    with pytest.raises(ConfigError, match=r"pyproject.toml: not valid TOML: .*line 1"):
        load_config(path, KNOWN)


def test_section_that_is_not_a_table(tmp_path):
    path = write(tmp_path / "pyproject.toml", 'tool = { dp-lint = "strict" }\n')
    with pytest.raises(ConfigError, match=r"pyproject.toml: \[tool.dp-lint\] must be a table$"):
        load_config(path, KNOWN)


def test_tool_that_is_not_a_table(tmp_path):
    path = write(tmp_path / "pyproject.toml", "tool = 3\n")
    with pytest.raises(ConfigError, match=r"pyproject.toml: `tool` must be a table$"):
        load_config(path, KNOWN)


def test_unreadable_file(tmp_path):
    path = write(tmp_path / "pyproject.toml", b"\xff\xfe[tool]")
    with pytest.raises(ConfigError, match=r"pyproject.toml: cannot read: "):
        load_config(path, KNOWN)


def test_config_file_without_the_table(tmp_path):
    other = write(tmp_path / "lint.toml", "[tool.ruff]\n")
    with pytest.raises(ConfigError, match=r"lint.toml: no \[tool.dp-lint\] table in this file$"):
        ConfigResolver(other, known=KNOWN)


def test_missing_config_file(tmp_path):
    with pytest.raises(ConfigError, match=r"configuration file .*nope.toml does not exist$"):
        ConfigResolver(tmp_path / "nope.toml", known=KNOWN)


# --- selection ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "config, codes",
    [
        (Config(), KNOWN),
        (Config(select=("DPL0",)), ["DPL000", "DPL001", "DPL002", "DPL003"]),
        (Config(select=("DPL0",), ignore=("DPL002",)), ["DPL000", "DPL001", "DPL003"]),
        (Config(select=("DPL001",), extend_select=("DPL1",)), ["DPL001", "DPL101", "DPL102"]),
        (Config(ignore=("ALL",), extend_select=("DPL001",)), []),
        (Config(select=("DPL001",), ignore=("DPL0",)), []),
        # The command line replaces the file's select (and with it the file's ignore)...
        (Config(ignore=("DPL001",), cli_select=("DPL001",)), ["DPL001"]),
        # ...or keeps it and adds to ignore.
        (Config(select=("DPL0",), cli_ignore=("DPL001",)), ["DPL000", "DPL002", "DPL003"]),
        (Config(select=("DPL0",), cli_extend_select=("DPL900",)), ["DPL000", "DPL001", "DPL002", "DPL003", "DPL900"]),
    ],
)
def test_enabled_codes(config, codes):
    assert sorted(config.enabled_codes(KNOWN)) == codes


def test_per_file_ignores_are_relative_to_the_configuration(tmp_path):
    config = load(tmp_path, """
per-file-ignores = { "tests/*" = ["DPL001"], "conftest.py" = ["DPL1"], "/top.py" = ["ALL"] }
""")
    assert config.ignored_for(tmp_path / "tests" / "test_a.py", KNOWN) == {"DPL001"}
    # gitignore syntax: `tests/*` covers everything below tests/, a bare name matches at any depth.
    assert config.ignored_for(tmp_path / "tests" / "deep" / "conftest.py", KNOWN) == {"DPL001", "DPL101", "DPL102"}
    assert config.ignored_for(tmp_path / "src" / "conftest.py", KNOWN) == {"DPL101", "DPL102"}
    assert config.ignored_for(tmp_path / "top.py", KNOWN) == set(KNOWN)
    assert config.ignored_for(tmp_path / "sub" / "top.py", KNOWN) == set()
    assert config.ignored_for(tmp_path / "src" / "tests" / "x.py", KNOWN) == set()
    assert config.ignored_for(tmp_path.parent / "elsewhere.py", KNOWN) == set()


def test_overrides(tmp_path):
    config = load(tmp_path, 'select = ["DPL0"]\nextend-exclude = ["gen"]\nassume-batch-first = true\n')
    overridden = config.with_overrides(
        Overrides(ignore=("DPL001",), extend_exclude=("more",), assume_batch_first=False, opacus_version="1.7.0")
    )
    assert overridden.assume_batch_first is False and overridden.opacus_version == "1.7.0"
    assert overridden.extend_exclude == ("gen", "more")
    assert sorted(overridden.enabled_codes(KNOWN)) == ["DPL000", "DPL002", "DPL003"]
    assert overridden.from_command_line == {"ignore", "extend-exclude", "assume-batch-first", "opacus-version"}
    assert config.with_overrides(Overrides(exclude=())).exclude_patterns() == ("gen",)


# --- which file --------------------------------------------------------------------


def test_find_pyproject(tmp_path):
    path = write(tmp_path / "pyproject.toml", "")
    (tmp_path / "a" / "b").mkdir(parents=True)
    assert find_pyproject(tmp_path / "a" / "b") == path
    assert find_pyproject(tmp_path / "a" / "b" / "x.py") == path


def test_nearest_table_wins_and_tableless_pyprojects_are_passed_over(tmp_path):
    pyproject(tmp_path, 'ignore = ["DPL001"]\n')
    write(tmp_path / "pkg" / "pyproject.toml", "[project]\nname = 'pkg'\n")
    pyproject(tmp_path / "other", 'ignore = ["DPL002"]\n')
    (tmp_path / "pkg" / "src").mkdir(parents=True)
    (tmp_path / "other" / "deep").mkdir(parents=True)
    resolver = ConfigResolver(known=KNOWN)

    assert resolver.for_folder(tmp_path / "pkg" / "src").ignore == ("DPL001",)
    assert resolver.for_folder(tmp_path / "other" / "deep").ignore == ("DPL002",)
    assert resolver.for_path(tmp_path / "other" / "deep" / "m.py").path == tmp_path / "other" / "pyproject.toml"


def test_without_any_table_the_nearest_pyproject_is_the_root(tmp_path):
    write(tmp_path / "pyproject.toml", "[project]\nname = 'x'\n")
    (tmp_path / "src").mkdir()

    config = ConfigResolver(known=KNOWN).for_folder(tmp_path / "src")

    assert config.root == tmp_path and not config.has_section


def test_config_file_applies_everywhere(tmp_path):
    pyproject(tmp_path / "a", 'ignore = ["DPL001"]\n')
    chosen = write(tmp_path / "ci.toml", '[tool.dp-lint]\nignore = ["DPL002"]\n')
    resolver = ConfigResolver(chosen, known=KNOWN)

    assert resolver.for_folder(tmp_path / "a").ignore == ("DPL002",)
    assert resolver.for_folder(tmp_path).root == tmp_path


def test_each_folder_and_file_is_resolved_once(tmp_path, monkeypatch):
    import dp_lint.config.settings as config_module

    pyproject(tmp_path, 'ignore = ["DPL001"]\n')
    for name in ("a", "b"):
        for index in range(5):
            write(tmp_path / "pkg" / name / f"m{index}.py", "x = 1\n")
    reads = []
    real = config_module._read_toml
    monkeypatch.setattr(config_module, "_read_toml", lambda path: reads.append(path) or real(path))
    resolver = ConfigResolver(known=KNOWN)
    for path in sorted((tmp_path / "pkg").rglob("*.py")):
        resolver.for_path(path)
    assert reads == [tmp_path / "pyproject.toml"]
    assert len(resolver._folders) == 4  # pkg/a, pkg/b, pkg, the root


# --- through the CLI -----------------------------------------------------------------


def test_check_reports_configuration_errors_with_exit_2(use_rules, project):
    write(project / "flagged.py", FLAGGED)
    pyproject(project, 'ignore = ["DPL777"]\n')

    result = invoke("check", ".")

    assert result.exit_code == 2
    assert f"Error: {project / 'pyproject.toml'}: `ignore` in [tool.dp-lint]: unknown rule code or prefix 'DPL777'" in result.stderr
    assert result.stdout == ""


def test_nested_configuration_selects_rules_per_folder(use_rules, project):
    pyproject(project, 'ignore = ["DPL102"]\n')
    pyproject(project / "sub", 'select = ["DPL102"]\n')
    write(project / "top.py", FLAGGED)
    write(project / "sub" / "inner.py", FLAGGED)

    result = invoke("check", ".", "--output-format", "concise")

    assert result.stdout.splitlines()[:2] == [
        "sub/inner.py:3:20: DPL102 this line asked to be flagged",
        "top.py:3:20: DPL101 this line asked to be flagged",
    ]


def test_per_file_ignores_through_check(use_rules, project):
    pyproject(project, 'per-file-ignores = { "tests/**" = ["DPL101"] }\n')
    write(project / "tests" / "t.py", FLAGGED)

    result = invoke("check", "--output-format", "concise")

    assert result.stdout.splitlines() == ["tests/t.py:3:20: DPL102 this line asked to be flagged", "Found 1 error."]


def test_command_line_overrides_the_file(use_rules, project):
    pyproject(project, 'select = ["DPL101"]\n')
    write(project / "flagged.py", FLAGGED)

    assert "DPL102" not in invoke("check").stdout
    assert [line.split()[1] for line in invoke("check", "--select", "DPL102").stdout.splitlines()[:-1]] == ["DPL102"]
    assert [line.split()[1] for line in invoke("check", "--extend-select", "DPL102").stdout.splitlines()[:-1]] == [
        "DPL101", "DPL102"]
    assert invoke("check", "--ignore", "DPL101").stdout == "All checks passed!\n"


@pytest.mark.parametrize("option", ["--select", "--extend-select", "--ignore"])
def test_unknown_code_on_the_command_line(use_rules, project, option):
    write(project / "flagged.py", FLAGGED)

    result = invoke("check", option, "DPL555")

    assert result.exit_code == 2
    assert f"unknown rule code or prefix 'DPL555' in {option}; known codes: DPL000, DPL101, DPL102, DPL900" in result.stderr


def test_misspelt_code_on_the_command_line_gets_a_suggestion(use_rules, project):
    write(project / "flagged.py", FLAGGED)

    result = invoke("check", "--ignore", "DLP101")

    assert result.exit_code == 2
    assert "unknown rule code or prefix 'DLP101' in --ignore (did you mean 'DPL101'?); known codes:" in result.stderr


def test_dp_lint_config_prints_the_effective_configuration(use_rules, project):
    path = pyproject(project, 'ignore = ["DPL101"]\nopacus-version = "1.6.0"\n[[tool.dp-lint.verify]]\nmodel = "m:Net"\n')

    result = invoke("config", "--extend-select", "DPL9")

    assert result.exit_code == 0
    text = result.stdout
    assert f"# Read from {path} ([tool.dp-lint])" in text
    assert "# Command-line options: extend-select" in text
    assert 'select = ["ALL"]  # default' in text
    assert f'ignore = ["DPL101"]  # {path}' in text
    assert 'extend-select = ["DPL9"]  # command line' in text
    assert f'opacus-version = "1.6.0"  # {path}' in text
    assert "assume-batch-first = true  # default" in text
    assert f'[[tool.dp-lint.verify]]  # {path}\nmodel = "m:Net"' in text
    assert "# Enabled rules: DPL000, DPL102, DPL900" in text


def test_dp_lint_config_as_json_and_for_a_path(use_rules, project):
    pyproject(project / "sub", 'select = ["DPL101"]\n')

    data = json.loads(invoke("config", "sub", "--output-format", "json").stdout)
    assert data["path"] == str(project / "sub" / "pyproject.toml")
    assert data["settings"]["select"] == ["DPL101"] and data["origins"]["select"] == str(data["path"])
    assert data["enabled_rules"] == ["DPL101"]

    defaults = invoke("config").stdout
    assert "# No [tool.dp-lint] found: defaults" in defaults


def test_dp_lint_config_errors(use_rules, project):
    pyproject(project, "nope = 1\n")
    result = invoke("config")
    assert result.exit_code == 2 and "unknown key `nope`" in result.stderr

    result = invoke("config", "missing")
    assert result.exit_code == 2 and "path does not exist: missing" in result.stderr

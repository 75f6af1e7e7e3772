"""The Opacus version: where dp-lint reads it (every source, none needing a pyproject.toml), the
version table, and findings suppressed on releases where the problem does not exist."""

from __future__ import annotations

import json
import textwrap

import pytest
from click.testing import CliRunner

from dp_lint.cli import main
from dp_lint.config import opacus_versions
from dp_lint.config.opacus_version import project_folders, resolve_opacus_version, version_in_folder
from dp_lint.config.opacus_versions import BEHAVIOURS, MEASURED_RELEASES, in_range, representative_release


def _not_installed():
    return None


def _resolve(folder):
    return resolve_opacus_version(None, project_folders(None, [folder]), installed=_not_installed)


@pytest.mark.parametrize(
    "name, text, version",
    [
        ("requirements.txt", "torch==2.13.0\nopacus==1.4.1\n", "1.4.1"),
        ("requirements-dev.txt", "# opacus==9.9\nopacus[extra] ~= 1.5.2  # compatible\n", "1.5.2"),
        ("requirements/base.txt", "opacus<=1.4.1\n", "1.4.1"),
        ("setup.cfg", "[options]\ninstall_requires =\n    torch\n    opacus==1.4.0\n", "1.4.0"),
        ("environment.yml", "dependencies:\n  - python=3.11\n  - pip:\n    - opacus==1.5.4\n", "1.5.4"),
        ("environment.yml", "dependencies:\n  - opacus=1.4.1\n", "1.4.1"),
        ("pyproject.toml", '[project]\ndependencies = ["torch", "opacus==1.4.1"]\n', "1.4.1"),
        ("pyproject.toml", '[tool.poetry.dependencies]\nopacus = "^1.4.1"\n', "1.4.1"),
        ("poetry.lock", '[[package]]\nname = "torch"\nversion = "2.13.0"\n\n[[package]]\nname = "opacus"\n'
                        'version = "1.4.1"\ndescription = "x"\n', "1.4.1"),
        ("uv.lock", 'version = 1\n\n[[package]]\nname = "opacus"\nversion = "1.5.2"\nsource = { registry = "x" }\n',
         "1.5.2"),
        ("pdm.lock", '[[package]]\nname = "opacus"\nversion = "1.4.1"\n', "1.4.1"),
        ("Pipfile.lock", json.dumps({"default": {"opacus": {"version": "==1.4.1"}}}), "1.4.1"),
    ],
)
def test_each_source_gives_the_version_without_a_pyproject(tmp_path, name, text, version):
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    found = _resolve(tmp_path)
    assert found.version == version, found
    assert name.split("/")[-1] in found.source


def test_ranges_without_a_version_and_commented_pins_tell_nothing(tmp_path):
    (tmp_path / "requirements.txt").write_text("opacus>=1.4\n# opacus==1.4.1\nopacus-extras==3.0\n")
    assert _resolve(tmp_path).version is None


def test_lock_file_wins_over_a_pin_and_the_setting_over_everything(tmp_path):
    (tmp_path / "requirements.txt").write_text("opacus~=1.4.0\n")
    (tmp_path / "uv.lock").write_text('[[package]]\nname = "opacus"\nversion = "1.4.1"\n')
    assert _resolve(tmp_path).version == "1.4.1"
    found = resolve_opacus_version("1.6.0", [tmp_path], installed=_not_installed)
    assert (found.version, found.source) == ("1.6.0", "the opacus-version setting")
    installed = resolve_opacus_version(None, [tmp_path], installed=lambda: "1.5.4")
    assert (installed.version, installed.source) == ("1.5.4", "the installed opacus package")


def test_lookup_walks_up_to_the_repository_root_only(tmp_path):
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    (repo / "requirements.txt").write_text("opacus==1.4.1\n")
    (tmp_path / "requirements.txt").write_text("opacus==1.0.0\n")  # outside the repository: never read
    package = repo / "src" / "pkg"
    package.mkdir(parents=True)
    (package / "model.py").write_text("x = 1\n")
    assert _resolve(package / "model.py").version == "1.4.1"
    assert project_folders(None, [package / "model.py"])[-1] == repo.resolve()
    # Outside any repository only the checked folder itself is searched.
    loose = tmp_path / "loose" / "deep"
    loose.mkdir(parents=True)
    assert project_folders(None, [loose]) == [loose.resolve()]
    assert version_in_folder(loose) is None


def test_version_ranges():
    assert in_range("1.4.1", "<1.5") and not in_range("1.5", "<1.5") and not in_range("1.5.0", "<1.5")
    assert in_range("1.5", ">=1.5,<=1.6.0") and in_range("1.6.0", ">=1.5,<=1.6.0")
    assert not in_range("1.6.1", ">=1.5,<=1.6.0") and in_range("1.5.1", "<1.5.2")
    assert in_range(None, "<1.5") is None and in_range("1.4.1", "") is True
    assert representative_release("<1.5") == "1.4.1" and representative_release(">=1.5") == "1.6.0"
    assert representative_release("<1.0") is None
    with pytest.raises(ValueError):
        in_range("1.4.1", "~1.4")


def test_every_behaviour_is_measured_on_the_newest_and_the_oldest_release():
    for behaviour in BEHAVIOURS:
        releases = [release for release, _ in behaviour.measured]
        assert set(releases) <= set(MEASURED_RELEASES), behaviour.key
        assert MEASURED_RELEASES[0] in releases and MEASURED_RELEASES[-1] in releases, behaviour.key
        assert behaviour.probe.startswith(("probes:", "cases:")), behaviour.key
        assert behaviour.changed_by, behaviour.key
        for release, outcome in behaviour.measured:
            # The table's outcomes and its range agree. "unsupported: ..." (the probe's API does not exist
            # there) is outside the range: a failure of that API cannot hold, a capability is missing.
            if behaviour.probe.startswith("probes:") and outcome.startswith("unsupported:"):
                assert not in_range(release, behaviour.holds), (behaviour.key, release, outcome)
            elif behaviour.probe.startswith("probes:"):
                assert (outcome == "ok") == behaviour.expected_ok(release), (behaviour.key, release, outcome)


def test_every_rule_names_behaviours_of_the_table():
    from dp_lint.catalogue.loader import load_catalogue

    for entry in load_catalogue():
        if entry.rule.reported_by_engine:
            continue
        assert entry.rule.opacus_behaviours, f"{entry.code} states no Opacus behaviour"
        for key in entry.rule.opacus_behaviours:
            opacus_versions.behaviour(key)  # raises for an unknown key


ONE_HEAD = textwrap.dedent(
    """
    import torch
    import torch.nn as nn
    from opacus import PrivacyEngine
    from opacus.layers import DPMultiheadAttention


    class Classifier(nn.Module):
        def __init__(self, dim=8):
            super().__init__()
            self.attn = DPMultiheadAttention(dim, 1, batch_first=True)
            self.head = nn.Linear(dim, 2)

        def forward(self, x):
            h, _ = self.attn(x, x, x)
            return self.head(h.mean(dim=1))


    def train(loader):
        model = Classifier()
        optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
        model, optimizer, loader = PrivacyEngine().make_private(
            module=model, optimizer=optimizer, data_loader=loader, noise_multiplier=1.0, max_grad_norm=1.0
        )
    """
).lstrip()


def _check(folder, *extra):
    result = CliRunner().invoke(main, ["check", str(folder), "--output-format", "json", *extra])
    assert result.exit_code in (0, 1), result.output
    return json.loads(result.stdout)


def test_pre_1_5_batch_first_crash_is_reported_only_below_1_5(tmp_path):
    (tmp_path / "model.py").write_text(ONE_HEAD)
    (tmp_path / "pyproject.toml").write_text('[tool.dp-lint]\nopacus-version = "1.4.1"\n')
    findings = _check(tmp_path)
    assert [(f["code"], f["location"]["row"]) for f in findings] == [("DPL004", 10)]
    message = f"{findings[0]['message']} {findings[0]['help']}"  # the advice is on the help line
    assert "stack expects each tensor to be equal size" in message and "make_private(batch_first=True)" in message
    assert "model.py:21" in message and "opacus 1.4.1" in message and ">= 1.5" in message
    (tmp_path / "pyproject.toml").write_text('[tool.dp-lint]\nopacus-version = "1.6.0"\n')
    assert _check(tmp_path) == []
    # The command line wins; a sequence-first engine has no crash.
    assert len(_check(tmp_path, "--opacus-version", "1.4.0")) == 1
    (tmp_path / "model.py").write_text(ONE_HEAD.replace("max_grad_norm=1.0", "max_grad_norm=1.0, batch_first=False"))
    codes = {f["code"] for f in _check(tmp_path, "--opacus-version", "1.4.0")}
    assert "DPL004" not in codes


def test_pre_1_5_crash_from_a_requirements_pin_without_pyproject(tmp_path, monkeypatch):
    (tmp_path / ".git").mkdir()
    (tmp_path / "model.py").write_text(ONE_HEAD)
    (tmp_path / "requirements.txt").write_text("opacus==1.4.1\n")
    monkeypatch.setattr("dp_lint.config.opacus_version.installed_opacus", _not_installed)
    findings = _check(tmp_path / "model.py")
    assert [f["code"] for f in findings] == ["DPL004"]
    assert "opacus 1.4.1" in findings[0]["message"] and "requirements.txt" in findings[0]["help"]


def test_unknown_version_assumes_no_pre_1_5_crash(tmp_path, monkeypatch):
    (tmp_path / "model.py").write_text(ONE_HEAD)
    monkeypatch.setattr("dp_lint.config.opacus_version.installed_opacus", _not_installed)
    assert _check(tmp_path) == []


def test_findings_are_dropped_where_their_behaviour_does_not_hold(tmp_path):
    two_heads = ONE_HEAD.replace("DPMultiheadAttention(dim, 1,", "DPMultiheadAttention(dim, 2,")
    (tmp_path / "model.py").write_text(two_heads)
    on_16 = _check(tmp_path, "--opacus-version", "1.6.0")
    assert [f["code"] for f in on_16] == ["DPL004"] and "wrong output on opacus 1.6.0" in on_16[0]["message"]
    assert _check(tmp_path, "--opacus-version", "1.6.1") == []
    on_14 = _check(tmp_path, "--opacus-version", "1.4.1")
    assert [f["code"] for f in on_14] == ["DPL004"]
    assert "stack expects" in on_14[0]["help"]


def test_config_prints_the_opacus_version_and_its_source(tmp_path, monkeypatch):
    monkeypatch.setattr("dp_lint.config.opacus_version.installed_opacus", _not_installed)
    (tmp_path / ".git").mkdir()
    (tmp_path / "requirements.txt").write_text("opacus==1.4.1\n")
    result = CliRunner().invoke(main, ["config", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "# Opacus in use: 1.4.1, from the pin in" in result.output and "requirements.txt" in result.output
    data = json.loads(CliRunner().invoke(main, ["config", str(tmp_path), "--output-format", "json"]).stdout)
    assert data["opacus"]["version"] == "1.4.1" and "requirements.txt" in data["opacus"]["source"]
    result = CliRunner().invoke(main, ["config", str(tmp_path), "--opacus-version", "1.6.0"])
    assert "# Opacus in use: 1.6.0, from the opacus-version setting" in result.output


def test_every_rule_readme_shows_the_measured_table():
    import importlib.util
    from pathlib import Path

    script = Path(__file__).resolve().parent.parent / "scripts" / "measure_versions" / "readme_sections.py"
    spec = importlib.util.spec_from_file_location("dp_lint_readme_sections", script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    for path, text in module.expected_readmes().items():
        assert path.read_text(encoding="utf-8") == text, f"{path}: run {script.name}"
    from dp_lint.catalogue.loader import load_catalogue

    for entry in load_catalogue():
        readme = (entry.folder / "README.md").read_text(encoding="utf-8")
        assert "\n## Opacus versions\n" in readme, entry.code
        if "\n## References" in readme:
            assert readme.index("## Opacus versions") < readme.index("## References"), entry.code

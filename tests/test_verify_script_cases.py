"""`dp-lint verify` on every script case of the catalogue, under real Opacus (CPU).

The script cases (DPL105, DPL2xx) are training functions whose CASE says what real training does:
`crash`, `silent` (a measured privacy or accounting violation) or `ok`. Two claims are tested here:
- with no configuration, `verify` finds the function as an entry point and builds the model by
  capture (the model make_private received, on the batch the loop fed it);
- observe mode (`--run "<file>:main" --steps 100`, more steps than any case takes, so that a crash
  in a later round or epoch is reached) reaches the case's verdict on its own, from the script's real steps: `silent` exactly for the silent cases, `crash` for the crash cases, `ok` for
  the clean ones. A case whose script stops at the Opacus 0.x API (`"reaches_engine": False`) has no
  private model: observe mode says `cannot-build` with the case's error. (The catalogue harness measures with its own instruments, noise off and a tiny
  clipping bound; observe mode runs the script as written.)
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from runtime_cases import collect_cases, installed_opacus_version, require_opacus

require_opacus()

from dp_lint.cli import main  # noqa: E402

pytestmark = pytest.mark.slow

SCRIPT_CASES = [case for case in collect_cases(scripts=True) if case.is_script and case.root is None]


def _verify(folder: Path, arguments: list[str], allow_usage_error: bool = False) -> tuple[int, list[dict]]:
    old = os.getcwd()
    try:
        os.chdir(folder)
        result = CliRunner().invoke(main, ["verify", *arguments, "--output-format", "json"], catch_exceptions=False)
    finally:
        os.chdir(old)
    if allow_usage_error and result.exit_code == 2:
        assert "no model to verify" in result.stderr, result.stderr
        return 2, []
    return result.exit_code, json.loads(result.stdout)


def _copy(case, tmp_path: Path) -> Path:
    target = tmp_path / case.model_file.name
    shutil.copyfile(case.model_file, target)
    return target


def _expected(case) -> str:
    version = installed_opacus_version()
    reason = case.skip_reason(version)
    if reason:
        pytest.skip(reason)
    return case.expectation(version)["runtime"]


def test_every_script_case_is_collected():
    assert len(SCRIPT_CASES) >= 15, [case.id for case in SCRIPT_CASES]


@pytest.mark.parametrize("case", SCRIPT_CASES, ids=lambda case: case.id)
def test_observe_mode_agrees_with_the_case(case, tmp_path):
    expected = _expected(case)
    script = _copy(case, tmp_path)
    status, verdicts = _verify(tmp_path, ["--run", f"{script.name}:{case.spec['script']}", "--steps", "100"])
    (verdict,) = verdicts
    if case.spec.get("reaches_engine") is False:
        # Nothing private to observe: the script stops at the Opacus 0.x API, with the case's error.
        assert verdict["verdict"] == "cannot-build" and status != 0, verdict
        assert case.expectation(installed_opacus_version())["error"] in verdict["error"], verdict
        return
    assert verdict["verdict"] == expected, verdict
    assert status == (0 if expected == "ok" else 1), verdict
    if expected == "silent":
        broken = [i for i in verdict["invariants"] if not i["holds"]]
        assert broken and all(i["measured"] for i in broken), verdict
    if expected == "crash" and case.expectation(installed_opacus_version()).get("error"):
        assert case.expectation(installed_opacus_version())["error"] in verdict["error"], verdict


@pytest.mark.parametrize("case", SCRIPT_CASES, ids=lambda case: case.id)
def test_verify_without_configuration_builds_the_case_by_capture(case, tmp_path):
    """The entry point is found without configuration. Capture runs the script to its first
    training forward and checks the model on that batch: a case that crashes there (in the engine
    call, on its result, or in Opacus before any training forward) is `crash`; a crash later in the
    loop (a second round, the next epoch) is observe mode's to see; and every script case's model
    is a correct one, so the rest is `ok`."""
    expected = _expected(case)
    _copy(case, tmp_path)
    if case.spec.get("reaches_engine") is False:
        # No engine call runs, so nothing is captured: `verify` says there is no private model, or
        # judges the model class from its constructor when the legacy call names one.
        status, verdicts = _verify(tmp_path, [], allow_usage_error=True)
        assert status == 2 or all(v["built_by"] == "constructor" for v in verdicts), verdicts
        return
    status, verdicts = _verify(tmp_path, [])
    (verdict,) = verdicts
    assert verdict["built_by"] == "capture", verdict
    assert verdict["verdict"] in (("crash", "ok") if expected == "crash" else ("ok",)), verdict

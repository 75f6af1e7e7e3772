"""Re-measure the version table on the installed Opacus: every probe of
dp_lint/config/opacus_versions.py runs (scripts/measure_versions/probes.py) and its outcome must be
what the table records for this release (or, for a release the table has not measured, what its
range implies). CI runs this on one release of each minor line (.ci/run)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from runtime_cases import require_opacus

from dp_lint.config.opacus_versions import BEHAVIOURS, in_range

require_opacus()

PROBES_FILE = Path(__file__).resolve().parents[2] / "scripts" / "measure_versions" / "probes.py"
PROBED = [b for b in BEHAVIOURS if b.probe.startswith("probes:")]


@pytest.fixture(scope="module")
def measured():
    spec = importlib.util.spec_from_file_location("dp_lint_version_probes", PROBES_FILE)
    probes = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(probes)
    return probes.measure([b.probe.split(":", 1)[1] for b in PROBED])


@pytest.mark.opacus_versions
@pytest.mark.parametrize("behaviour", PROBED, ids=[b.key for b in PROBED])
def test_table_matches_the_installed_release(behaviour, measured):
    release = measured["opacus"]
    outcome = measured["results"][behaviour.probe.split(":", 1)[1]]
    recorded = behaviour.outcome_on(release)
    if recorded is not None:
        assert outcome.startswith(recorded), f"opacus {release}, {behaviour.key}: table {recorded!r}, measured {outcome!r}"
    elif outcome.startswith("unsupported:"):  # the probe's API does not exist there: outside the range
        assert not in_range(release, behaviour.holds), f"opacus {release}, {behaviour.key}: measured {outcome!r}"
    else:  # a release the table has not measured: at least the range must be right
        assert (outcome == "ok") == behaviour.expected_ok(release), \
            f"opacus {release} (not in the table), {behaviour.key} holds {behaviour.holds}: measured {outcome!r}"

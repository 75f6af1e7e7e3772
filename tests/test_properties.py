"""Property tests on generated programs (hypothesmith): `check` never raises nor reports an
internal error, and `fix` always writes code that parses, after which a second `fix` changes
nothing.

Example counts come from hypothesis settings profiles: `ci` (the default, small enough for
CI's two cores) and `thorough` (`HYPOTHESIS_PROFILE=thorough python -m pytest
tests/test_properties.py`).
"""

import ast
import os
import tempfile
from pathlib import Path

import libcst as cst
import pytest

hypothesis = pytest.importorskip("hypothesis")
hypothesmith = pytest.importorskip("hypothesmith")

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from dp_lint.lint.check import check_files  # noqa: E402
from dp_lint.lint.fix_loop import run_fixes, settle, write_fixes  # noqa: E402

# Generated programs call literals (`1()`): Python warns while compiling them.
pytestmark = pytest.mark.filterwarnings("ignore::SyntaxWarning")

settings.register_profile("ci", max_examples=60, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
settings.register_profile("thorough", max_examples=2000, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

# Code with findings whose fixes are safe (DPL900: an unused suppression) and unsafe (DPL101:
# BatchNorm replaced by GroupNorm), placed around a generated program so that `fix` has work.
FIXABLE_HEAD = (
    "import torch.nn as nn\n\n\n"
    "class Net(nn.Module):\n"
    "    def __init__(self):\n"
    "        super().__init__()\n"
    "        self.bn = nn.BatchNorm1d(8)  # dp-lint: ignore[DPL001]\n\n\n"
)


def parses(text):
    try:
        ast.parse(text)
        cst.parse_module(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError, cst.ParserSyntaxError):
        return False
    return True


@given(hypothesmith.from_grammar())
def test_check_never_raises_on_generated_programs(source):
    path = Path("generated.py").resolve()

    result = check_files([path], texts={path: source})

    assert result.internal_errors == []
    if parses(source):
        assert [f for f in result.findings if f.code == "DPL000"] == []


@given(st.one_of(hypothesmith.from_node(), hypothesmith.from_grammar()))
def test_fix_output_parses_and_a_second_fix_is_a_no_op(program):
    source = FIXABLE_HEAD + program
    if not parses(source):
        return  # a program that does not parse has nothing fixed (DPL000)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder, "generated.py")
        path.write_text(source, encoding="utf-8")

        first = run_fixes([path], unsafe=True)
        assert write_fixes(first) == [] and first.internal_errors == []
        settle(first, applied=True)
        fixed = path.read_text(encoding="utf-8")
        second = run_fixes([path], unsafe=True)

        assert fixed != source  # the unused suppression, at least, was removed
        assert parses(fixed)
        assert [state.path for state in second.changed] == [] and second.internal_errors == []

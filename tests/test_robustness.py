"""dp-lint on real code it was not written for: the installed torch's and the standard
library's Python files, with zero internal errors, and DPL000 exactly for the files Python
itself rejects (`compile(..., ast.PyCF_ONLY_AST)`, as `ast.parse`).

CI checks a deterministic sample: SAMPLE files drawn with random.Random(SEED) from the sorted
list of both trees' `.py` files, plus the standard library's test-data files, where its files
that do not compile live (lib2to3's, the tokenizer's, `badsyntax_*`): under a minute on two
cores. Every file:
`python -m pytest -m robustness --robustness-all tests/test_robustness.py` (4,075 files with
torch 2.13 on Python 3.11: 5 to 9 minutes on a shared machine, peak RSS 1.9 GB, zero internal errors; two valid files of the
standard library's tests are skipped with a notice, their parenthesised annotation targets
`(x): int` being beyond libcst's grammar; one torch file in Python 3.12 syntax is analysed, not
DPL000, see `newer_syntax`).
"""

import ast
import random
import re
import sys
import sysconfig
from pathlib import Path

import pytest

from dp_lint.lint.check import check_files

pytestmark = pytest.mark.robustness

SAMPLE = 150
SEED = 20261202
# Files are checked in groups (one project each) so that memory stays bounded in a full run.
GROUP = 50


def stdlib_files():
    root = Path(sysconfig.get_paths()["stdlib"])
    return [p for p in root.rglob("*.py") if "site-packages" not in p.parts and "dist-packages" not in p.parts]


def torch_files():
    torch = pytest.importorskip("torch")  # the check imports nothing; this only finds the files
    return list(Path(torch.__file__).parent.rglob("*.py"))


def broken_on_purpose():
    """The standard library's test data: bad encodings, Python 2 code, bad syntax (where its
    files that Python rejects are)."""
    root = Path(sysconfig.get_paths()["stdlib"])
    return sorted([*root.glob("lib2to3/tests/data/*.py"), *root.glob("test/tokenizedata/*.py"),
                   *root.glob("test/badsyntax_*.py")])


# PEP 695 type parameters (Python 3.12): libcst reads them whatever interpreter runs dp-lint,
# and dp-lint does not hold a file to the interpreter it runs on (torch ships such a file).
TYPE_PARAMETERS = re.compile(r"^\s*(?:async\s+)?(?:def|class)\s+\w+\s*\[|^\s*type\s+\w+\s*[\[=]")


def newer_syntax(path):
    """Whether the running Python rejects `path` only for syntax of a later release."""
    if sys.version_info >= (3, 12):
        return False
    try:
        compile(path.read_bytes(), str(path), "exec", flags=ast.PyCF_ONLY_AST, dont_inherit=True)
    except SyntaxError as error:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
        line = lines[error.lineno - 1] if error.lineno and error.lineno <= len(lines) else ""
        return bool(TYPE_PARAMETERS.match(line))
    except (ValueError, RecursionError, MemoryError):
        return False
    return False


def python_rejects(path):
    try:
        compile(path.read_bytes(), str(path), "exec", flags=ast.PyCF_ONLY_AST, dont_inherit=True)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return True
    return False


@pytest.fixture(scope="module")
def files(request):
    every = sorted({p for p in torch_files() + stdlib_files() if p.is_file()})
    if request.config.getoption("--robustness-all"):
        return every
    sample = random.Random(SEED).sample(every, min(SAMPLE, len(every)))
    return sorted(set(sample) | set(broken_on_purpose()))


def test_real_code_has_no_internal_error_and_dpl000_only_where_python_rejects(files):
    internal_errors = []
    not_analysed = set()  # valid Python dp-lint skips with a notice (libcst cannot read it)
    unparsed = set()
    for start in range(0, len(files), GROUP):
        group = files[start:start + GROUP]
        result = check_files(group)
        internal_errors.extend(str(e) for e in result.internal_errors if not e.limit)
        not_analysed |= {e.path for e in result.internal_errors if e.limit}
        unparsed |= {f.path for f in result.findings if f.code == "DPL000"}
    rejected = {path for path in files if python_rejects(path)}

    assert rejected  # the sample holds files Python rejects: the DPL000 check is exercised
    assert internal_errors == []
    assert sorted(map(str, not_analysed & rejected)) == [], "a notice instead of DPL000"
    assert sorted(map(str, unparsed - rejected)) == [], "DPL000 on files Python compiles"
    newer = {path for path in rejected - unparsed if newer_syntax(path)}
    assert sorted(map(str, rejected - unparsed - newer)) == [], "no DPL000 on files Python rejects"

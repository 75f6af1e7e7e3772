import sys
from pathlib import Path

# Test helpers (catalogue_cases.py, runtime_cases.py) are plain modules next to the tests.
sys.path.insert(0, str(Path(__file__).resolve().parent))


def pytest_addoption(parser):
    parser.addoption(
        "--robustness-all",
        action="store_true",
        default=False,
        help="tests/test_robustness.py: check every .py file of the installed torch and the standard "
             "library, not the seeded sample CI checks",
    )

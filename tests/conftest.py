import sys
from pathlib import Path

# Test helpers (catalogue_cases.py, runtime_cases.py) are plain modules next to the tests.
sys.path.insert(0, str(Path(__file__).resolve().parent))

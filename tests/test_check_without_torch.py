"""`dp-lint check` never imports torch or opacus (nor user code)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"

# Make `import torch` / `import opacus` fail, as on a machine without them.
BLOCK_AND_RUN = """
import sys
sys.modules["torch"] = None
sys.modules["opacus"] = None
from dp_lint.cli import main
sys.argv = ["dp-lint", "check", sys.argv[1], "--output-format", "concise"]
main()
"""


def test_check_runs_with_torch_and_opacus_unimportable():
    result = subprocess.run(
        [sys.executable, "-c", BLOCK_AND_RUN, str(EXAMPLES)], capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 1, result.stderr
    assert "DPL001" in result.stdout and "DPL002" in result.stdout
    assert "Traceback" not in result.stderr


def test_check_does_not_execute_user_code(tmp_path):
    marker = tmp_path / "executed"
    (tmp_path / "model.py").write_text(
        f"open({str(marker)!r}, 'w').write('ran')\nimport torch.nn as nn\n"
        "class M(nn.Module):\n    def forward(self, x):\n        return x\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", BLOCK_AND_RUN, str(tmp_path)], capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert not marker.exists()

"""The bundled examples (the quick start) report exactly their documented problems."""

from __future__ import annotations

from pathlib import Path

from dp_lint.files.discovery import discover
from dp_lint.lint.check import check_files

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"

EXPECTED = [
    ("dp_finetune/train.py", 39, "DPL201"),
    ("dp_finetune/train.py", 45, "DPL205"),
    ("mean_teacher/model.py", 19, "DPL003"),
    ("resnet_block/model.py", 18, "DPL104"),
    ("resnet_block/model.py", 20, "DPL104"),
    ("simsiam/model.py", 24, "DPL001"),
    ("text_classifier/textcls/layers.py", 11, "DPL002"),
    ("text_classifier/textcls/model.py", 13, "DPL002"),
    ("text_classifier/textcls/model.py", 13, "DPL102"),
    ("vision/model.py", 5, "DPL101"),
    ("vision/model.py", 15, "DPL103"),
]


def test_examples_report_their_documented_problems():
    result = check_files(discover([EXAMPLES]))
    found = [(f.path.relative_to(EXAMPLES).as_posix(), f.location.row, f.code) for f in result.findings]
    assert found == EXPECTED
    assert not result.internal_errors

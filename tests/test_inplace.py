"""DPL104's analysis on shapes the catalogue cases do not cover (precision corners)."""

from lint_helpers import lint_one

from dp_lint.files.discovery import discover
from dp_lint.lint.check import check_files

HEADER = """
import torch
import torch.nn as nn
import torch.nn.functional as F
"""


def _rows(tmp_path, body):
    return [row for row, code in lint_one(tmp_path, HEADER + body, select={"DPL104"})]


def test_conditional_parameter_free_layer_in_between_is_not_reported(tmp_path):
    body = """
def block(d, pool):
    layers = [nn.Conv2d(d, d, 3)]
    if pool:
        layers.append(nn.MaxPool2d(2))
    layers.append(nn.ReLU(inplace=True))
    return nn.Sequential(*layers)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = block(4, True)

    def forward(self, x):
        return self.body(x)
"""
    assert _rows(tmp_path, body) == []


def test_identity_between_passes_the_hooked_view_through(tmp_path):
    body = """
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(4, 4), nn.Identity(), nn.ReLU(inplace=True))

    def forward(self, x):
        return self.body(x)
"""
    assert _rows(tmp_path, body) == [8]


def test_dropout_with_p_zero_and_unresolved_settings_are_not_reported(tmp_path):
    body = """
class Net(nn.Module):
    def __init__(self, inplace):
        super().__init__()
        self.a = nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.0, inplace=True))
        self.b = nn.Sequential(nn.Linear(4, 4), nn.ReLU(inplace=inplace))

    def forward(self, x):
        return self.b(self.a(x))
"""
    assert _rows(tmp_path, body) == []


def test_constructor_argument_reaches_the_layer(tmp_path):
    body = """
class Block(nn.Module):
    def __init__(self, inplace=False):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(4, 4), nn.ReLU(inplace=inplace))

    def forward(self, x):
        return self.body(x)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.quiet = Block()
        self.loud = Block(inplace=True)

    def forward(self, x):
        return self.loud(self.quiet(x))
"""
    assert _rows(tmp_path, body) == [8]


def test_aliased_output_is_reported_without_a_fix(tmp_path):
    (tmp_path / "model.py").write_text(HEADER + """
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 4)

    def forward(self, x):
        h = self.fc(x)
        saved = h
        h += 1
        return h + saved
""")
    findings = [f for f in check_files(discover([tmp_path])).findings if f.code == "DPL104"]
    assert [f.location.row for f in findings] == [14]
    assert findings[0].fix is None


def test_no_grad_and_eval_branch_are_not_reported(tmp_path):
    body = """
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 4)
        self.head = nn.Linear(4, 2)

    def forward(self, x):
        h = self.head(x)
        with torch.no_grad():
            g = self.fc(x)
            g.relu_()
        if not self.training:
            h.relu_()
        return h + g
"""
    assert _rows(tmp_path, body) == []

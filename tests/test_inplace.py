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


def test_helper_block_is_read_with_the_arguments_of_its_call(tmp_path):
    # `inplace` comes from the helper's default for `self.a`, and is passed False for `self.b`:
    # only the call that keeps the default builds an in-place ReLU after a hooked GroupNorm.
    body = """
def conv_gn_relu(c_in, c_out, inplace=True):
    return nn.Sequential(
        nn.Conv2d(c_in, c_out, 3, padding=1),
        nn.GroupNorm(2, c_out),
        nn.ReLU(inplace=inplace),
    )


class Net(nn.Module):
    def __init__(self, quiet=False):
        super().__init__()
        self.a = conv_gn_relu(3, 4)
        self.b = nn.Sequential(conv_gn_relu(4, 4, inplace=quiet))

    def forward(self, x):
        return self.b(self.a(x))
"""
    assert _rows(tmp_path, body) == [9]
    quiet = body.replace("self.a = conv_gn_relu(3, 4)", "self.a = conv_gn_relu(3, 4, False)")
    assert _rows(tmp_path, quiet) == []


def test_layer_returned_by_a_helper_class_value_is_the_producer(tmp_path):
    # `norm_layer` defaults to a project function returning a GroupNorm (hooked) in one class,
    # and to one returning a parameter-free pooling layer (a new tensor: measured to run) in the other.
    body = """
def group_norm(channels):
    return nn.GroupNorm(2, channels)


def pool_instead(channels):
    return nn.MaxPool2d(1)


class Net(nn.Module):
    def __init__(self, norm_layer=group_norm):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3)
        self.norm = norm_layer(4)
        self.act = nn.ReLU(inplace=True)

    def forward(self, x):
        return self.act(self.norm(self.conv(x)))
"""
    assert _rows(tmp_path, body) == [21]
    assert _rows(tmp_path, body.replace("norm_layer=group_norm", "norm_layer=pool_instead")) == []


def test_factory_kwargs_that_are_always_empty_leave_the_defaults(tmp_path):
    # torchvision-style `def resnet(**kwargs): return Net(..., **kwargs)`: every call passes only
    # `width`, which the factory names, so `act_layer` keeps its in-place default.
    body = """
from functools import partial

from opacus import PrivacyEngine


class Net(nn.Module):
    def __init__(self, width=4, act_layer=partial(nn.ReLU, inplace=True)):
        super().__init__()
        self.conv = nn.Conv2d(3, width, 3)
        self.act = act_layer()

    def forward(self, x):
        return self.act(self.conv(x))


def tiny(width=4, **kwargs):
    return Net(width=width, **kwargs)


model = tiny(width=8)
PrivacyEngine().make_private(module=model, optimizer=None, data_loader=None, noise_multiplier=1.0, max_grad_norm=1.0)
"""
    assert _rows(tmp_path, body) == [17]
    # A caller that passes other keywords, or the factory used other than called: unknown.
    assert _rows(tmp_path / "other", body + "other = tiny(act_layer=nn.ReLU)\n") == []
    assert _rows(tmp_path / "registry", body + "FACTORIES = {'tiny': tiny}\n") == []

"""Engine calls, the models they wrap, and layer settings resolved across files (DPL002, DPL004, DPL10x)."""

from __future__ import annotations

import json

from click.testing import CliRunner
from lint_helpers import lint

from dp_lint.cli import main

MODEL = """
import torch.nn as nn
from opacus.layers import DPLSTM


class Encoder(nn.Module):
    def __init__(self, dim=8, batch_first=False):
        super().__init__()
        self.batch_first = batch_first
        self.rnn = DPLSTM(dim, dim, batch_first=self.batch_first)

    def forward(self, x):
        return self.rnn(x)[0]


class Classifier(nn.Module):
    def __init__(self, batch_first=True):
        super().__init__()
        self.encoder = Encoder(8, batch_first=batch_first)
        self.head = nn.Linear(8, 2)

    def forward(self, x):
        return self.head(self.encoder(x)[:, -1])
"""


def project(engine_line: str, model_construction: str = "Classifier()") -> dict[str, str]:
    return {
        "pkg/__init__.py": "",
        "pkg/models/__init__.py": "from .nets import Classifier as Classifier\n",
        "pkg/models/nets.py": MODEL,
        "scripts/train.py": f"""
from opacus import PrivacyEngine, GradSampleModule
from opacus.validators import ModuleValidator
from pkg.models import Classifier

def build():
    return {model_construction}

def main(device):
    model = build()
    model = model.to(device)
    engine = PrivacyEngine()
    {engine_line}
""",
    }


def test_settings_agree_through_constructor_parameters(tmp_path):
    files = project("model, opt, dl = engine.make_private(module=model, optimizer=None, data_loader=None)")
    assert lint(tmp_path, files) == []


def test_engine_false_disagrees_with_the_layer_resolved_through_two_constructors(tmp_path):
    files = project("model, opt, dl = engine.make_private(module=model, batch_first=False)")
    assert lint(tmp_path, files) == [("pkg/models/nets.py", 9, "DPL002")]


def test_parent_passing_false_disagrees_with_default_engine(tmp_path):
    files = project("engine.make_private(module=model)", "Classifier(batch_first=False)")
    assert lint(tmp_path, files) == [("pkg/models/nets.py", 9, "DPL002")]


def test_grad_sample_module_positional_and_validator_fix(tmp_path):
    files = project("gsm = GradSampleModule(ModuleValidator.fix(model), batch_first=False)")
    assert lint(tmp_path, files) == [("pkg/models/nets.py", 9, "DPL002")]


def test_unknown_engine_setting_never_reports(tmp_path):
    files = project("engine.make_private(module=model, **engine_kwargs)")
    assert lint(tmp_path, files) == []
    files = project("engine.make_private(module=model, batch_first=args.batch_first)")
    assert lint(tmp_path / "2", files) == []


def test_unknown_layer_setting_never_reports(tmp_path):
    files = {
        "model.py": """
import torch.nn as nn
from opacus.layers import DPLSTM

class Net(nn.Module):
    def __init__(self, cfg, **kwargs):
        super().__init__()
        self.a = DPLSTM(8, 8, **kwargs)
        self.b = DPLSTM(8, 8, batch_first=cfg.batch_first)

    def forward(self, x):
        return self.b(self.a(x)[0])[0]
""",
        "train.py": "from model import Net\nfrom opacus import PrivacyEngine\nPrivacyEngine().make_private(module=Net(cfg))\n",
    }
    assert lint(tmp_path, files) == []


def test_two_engine_calls_wrapping_different_models(tmp_path):
    files = {
        "models.py": """
import torch.nn as nn
from opacus.layers import DPGRU as GRU

class SeqFirst(nn.Module):
    def __init__(self):
        super().__init__()
        self.rnn = GRU(8, 8)
    def forward(self, x):
        return self.rnn(x)[0]

class BatchFirst(nn.Module):
    def __init__(self):
        super().__init__()
        self.rnn = GRU(8, 8, batch_first=True)
    def forward(self, x):
        return self.rnn(x)[0]
""",
        "train.py": """
from opacus import PrivacyEngine
from models import SeqFirst, BatchFirst
a = SeqFirst()
b = BatchFirst()
PrivacyEngine().make_private(module=a, batch_first=True)
PrivacyEngine().make_private(module=b, batch_first=True)
""",
    }
    assert lint(tmp_path, files) == [("models.py", 7, "DPL002")]


def test_validator_rules_only_inside_the_wrapped_model(tmp_path):
    files = {
        "models.py": """
import torch.nn as nn

class Private(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8))
    def forward(self, x):
        return self.net(x)

class NotPrivate(nn.Module):
    def __init__(self):
        super().__init__()
        self.bn = nn.BatchNorm2d(8)
        self.lstm = nn.LSTM(8, 8, batch_first=True)
    def forward(self, x):
        return self.lstm(self.bn(x))[0]
""",
        "train.py": "from opacus import PrivacyEngine\nfrom models import Private\nPrivacyEngine().make_private(module=Private())\n",
    }
    assert lint(tmp_path, files) == [("models.py", 6, "DPL101")]


def test_validator_fix_before_engine_silences_dpl101_to_dpl103(tmp_path):
    files = {
        "models.py": """
import torch.nn as nn

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.bn = nn.BatchNorm1d(8)
        self.lstm = nn.LSTM(8, 8, batch_first=True)
        self.attn = nn.MultiheadAttention(8, 1, batch_first=True)
    def forward(self, x):
        h = self.lstm(self.bn(x))[0]
        return self.attn(h, h, h)[0]
""",
        "train.py": """
from opacus import PrivacyEngine
from opacus.validators import ModuleValidator
from models import Net
model = Net()
model = ModuleValidator.fix(model)
PrivacyEngine().make_private(module=model)
""",
    }
    assert lint(tmp_path, files) == []


def test_no_engine_call_uses_the_configured_assumption(tmp_path):
    model = """
import torch.nn as nn
from opacus.layers import DPLSTM

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.rnn = DPLSTM(8, 8)
    def forward(self, x):
        return self.rnn(x)[0]
"""
    assert lint(tmp_path / "a", {"model.py": model}) == [("model.py", 7, "DPL002")]
    runner = CliRunner()
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "model.py").write_text(model.lstrip())
    (tmp_path / "b" / "pyproject.toml").write_text('[tool.dp-lint]\nassume-batch-first = false\n')
    result = runner.invoke(main, ["check", str(tmp_path / "b"), "--output-format", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == []


def test_dpl002_message_names_the_engine_call_and_the_assumption(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    from dp_lint.files.discovery import discover
    from dp_lint.lint.check import check_files

    for name, source in project("engine.make_private(module=model, batch_first=False)").items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(source)
    [finding] = check_files(discover([tmp_path])).findings
    assert "at train.py:13" in finding.message  # the short message names the file and line
    assert "scripts/train.py:13" in finding.help  # the help names its path
    assert "Classifier.encoder.rnn" in finding.message
    assert finding.confidence.value == "high"


DP_MHA = """
import torch.nn as nn
from opacus.layers import DPMultiheadAttention

class Block(nn.Module):
    def __init__(self, dim=8, heads=2):
        super().__init__()
        self.attn = DPMultiheadAttention(dim, heads, batch_first=True)
    def forward(self, x):
        return self.attn(x, x, x)[0]

class Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.one = Block(heads=1)
        self.two = Block(heads=4)
    def forward(self, x):
        return self.two(self.one(x))
"""


def test_dpl004_depends_on_heads_and_opacus_version(tmp_path):
    runner = CliRunner()
    old = tmp_path / "old"
    old.mkdir()
    (old / "model.py").write_text(DP_MHA.lstrip())
    (old / "pyproject.toml").write_text('[tool.dp-lint]\nopacus-version = "1.6.0"\n')
    result = runner.invoke(main, ["check", str(old), "--output-format", "json"])
    rows = [(r["code"], r["location"]["row"], "Model.two.attn" in r["message"]) for r in json.loads(result.stdout)]
    assert rows == [("DPL004", 7, True)]

    new = tmp_path / "new"
    new.mkdir()
    (new / "model.py").write_text(DP_MHA.lstrip())
    (new / "pyproject.toml").write_text('[tool.dp-lint]\nopacus-version = "1.7.0"\n')
    result = runner.invoke(main, ["check", str(new), "--output-format", "json"])
    assert json.loads(result.stdout) == []


def test_bad_configuration_is_a_clear_error(tmp_path):
    runner = CliRunner()
    (tmp_path / "m.py").write_text("x = 1\n")
    (tmp_path / "pyproject.toml").write_text('[tool.dp-lint]\nassume-batch-first = "yes"\n')
    result = runner.invoke(main, ["check", str(tmp_path)])
    assert result.exit_code == 2
    assert "assume-batch-first" in result.output and "pyproject.toml" in result.output
    (tmp_path / "pyproject.toml").write_text('[tool.dp-lint]\nassume-batch-frist = true\n')
    result = runner.invoke(main, ["check", str(tmp_path)])
    assert result.exit_code == 2
    assert "unknown key `assume-batch-frist`" in result.output
    (tmp_path / "pyproject.toml").write_text('[tool.dp-lint\n')
    result = runner.invoke(main, ["check", str(tmp_path)])
    assert result.exit_code == 2
    assert "not valid TOML" in result.output
    assert "Traceback" not in result.output


def test_layers_built_under_a_false_constructor_flag_are_skipped(tmp_path):
    files = {"head.py": """
import torch.nn as nn

class Head(nn.Module):
    def __init__(self, dim=8, use_bn=False, hidden=16):
        super().__init__()
        layers = [nn.Linear(dim, hidden)]
        if use_bn:
            layers.append(nn.BatchNorm1d(hidden))
        layers.append(nn.GELU())
        self.mlp = nn.Sequential(*layers)
        if use_bn:
            self.norm = nn.BatchNorm1d(hidden)
        else:
            self.norm = nn.LayerNorm(hidden)

    def forward(self, x):
        return self.norm(self.mlp(x))

class Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.plain = Head()
        self.with_bn = Head(use_bn=True)

    def forward(self, x):
        return self.plain(x) + self.with_bn(x)
"""}
    # Only the instance built with use_bn=True has BatchNorm: both of its layers are reported.
    assert lint(tmp_path, files, select={"DPL101"}) == [("head.py", 8, "DPL101"), ("head.py", 12, "DPL101")]


def test_stop_gradient_rules_skip_models_that_are_not_private(tmp_path):
    gan = """
import torch.nn as nn
import torch.nn.functional as F

class Generator(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Linear(4, 8)
    def forward(self, z):
        return self.net(z)

class Discriminator(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Linear(8, 1)
    def forward(self, x):
        return self.net(x)

class GAN(nn.Module):
    def __init__(self):
        super().__init__()
        self.G = Generator()
        self.D = Discriminator()
    def forward(self, real, z):
        return F.softplus(-self.D(real)).mean() + F.softplus(self.D(self.G(z).detach())).mean()
"""
    train = "from opacus import PrivacyEngine\nfrom gan import Discriminator\nPrivacyEngine().make_private(module=Discriminator())\n"
    # Only the discriminator is private: the container's detach cannot break Opacus.
    assert lint(tmp_path / "a", {"gan.py": gan, "train.py": train}) == []
    # Without an engine call every model may be private, and the container is reported.
    assert [code for _, _, code in lint(tmp_path / "b", {"gan.py": gan})] == ["DPL003", "DPL001"]

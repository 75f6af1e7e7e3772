"""The value analysis (dp_lint/analysis/objects.py): classes, config objects, namespaces, argparse
defaults, dicts and `if` folding, as the layer rules see them (no torch needed)."""

from __future__ import annotations

import pytest
from lint_helpers import lint

SCRIPT = """
from opacus import PrivacyEngine
from model import Net
{setup}

def main():
{body}
    engine = PrivacyEngine()
    engine.make_private(module=model, optimizer=None, data_loader=None{engine})
"""

LSTM_MODEL = """
import torch.nn as nn
from opacus.layers import DPLSTM


class Net(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.rnn = DPLSTM(8, 8, batch_first=cfg.batch_first)

    def forward(self, x):
        return self.rnn(x)[0]
"""


def project(setup: str, body: str, model: str = LSTM_MODEL, engine: str = "") -> dict[str, str]:
    indented = "\n".join("    " + line for line in body.strip().splitlines())
    return {"model.py": model, "train.py": SCRIPT.format(setup=setup, body=indented, engine=engine)}


DPL002 = [("model.py", 8, "DPL002")]


@pytest.mark.parametrize(("setup", "body", "expected"), [
    # dataclass: field default, keyword at construction, positional argument
    ("from dataclasses import dataclass\n@dataclass\nclass C:\n    hidden: int = 8\n    batch_first: bool = False\n",
     "model = Net(C())", DPL002),
    ("from dataclasses import dataclass\n@dataclass\nclass C:\n    hidden: int = 8\n    batch_first: bool = False\n",
     "model = Net(C(batch_first=True))", []),
    ("from dataclasses import dataclass, field\n@dataclass\nclass C:\n    hidden: int = 8\n"
     "    batch_first: bool = field(default=False)\n", "model = Net(C(8, True))", []),
    ("from dataclasses import dataclass, field\n@dataclass\nclass C:\n    hidden: int = 8\n"
     "    batch_first: bool = field(default=False)\n", "model = Net(C(8))", DPL002),
    # NamedTuple, plain class attributes, SimpleNamespace
    ("from typing import NamedTuple\nclass C(NamedTuple):\n    batch_first: bool = False\n", "model = Net(C())", DPL002),
    ("class C:\n    batch_first = False\n", "model = Net(C())", DPL002),
    ("class C:\n    batch_first = False\n", "model = Net(C)", DPL002),
    ("from types import SimpleNamespace\n", "model = Net(SimpleNamespace(batch_first=False))", DPL002),
    ("from types import SimpleNamespace\n", "model = Net(SimpleNamespace(batch_first=True))", []),
    # HF-style: __init__ stores its parameters
    ("class C:\n    def __init__(self, batch_first=False, **kw):\n        self.batch_first = batch_first\n",
     "model = Net(C())", DPL002),
    ("class C:\n    def __init__(self, batch_first=False, **kw):\n        self.batch_first = batch_first\n",
     "model = Net(C(batch_first=True))", []),
    # a value written after construction, or in a branch: unknown, no finding
    ("class C:\n    batch_first = False\n", "cfg = C()\ncfg.batch_first = flag()\nmodel = Net(cfg)", []),
    ("class C:\n    def __init__(self, batch_first=False):\n        if batch_first is None:\n"
     "            self.batch_first = other()\n        self.batch_first = batch_first\n", "model = Net(C())", []),
    # a config built by a project function, and a dict read through dict(...)/**
    ("from types import SimpleNamespace\ndef make_cfg(bf=False):\n    return SimpleNamespace(batch_first=bf)\n",
     "model = Net(make_cfg())", DPL002),
    ("from types import SimpleNamespace\nBASE = {'batch_first': False}\n",
     "model = Net(SimpleNamespace(**BASE))", DPL002),
    ("from types import SimpleNamespace\nBASE = {'batch_first': False}\n",
     "model = Net(SimpleNamespace(**dict(BASE, batch_first=True)))", []),
    # a config class with functools.partial's preset arguments; a preset that is not a literal is unknown
    ("import functools\nfrom dataclasses import dataclass\n@dataclass\nclass C:\n    batch_first: bool = True\n"
     "Seq = functools.partial(C, batch_first=False)\n", "model = Net(Seq())", DPL002),
    ("import functools\nfrom dataclasses import dataclass\n@dataclass\nclass C:\n    batch_first: bool = True\n"
     "Seq = functools.partial(C, batch_first=False)\n", "model = Net(Seq(batch_first=True))", []),
    ("import functools\nfrom dataclasses import dataclass\n@dataclass\nclass C:\n    batch_first: bool = False\n"
     "Seq = functools.partial(C, batch_first=flag())\n", "model = Net(Seq())", []),
])
def test_config_objects(tmp_path, setup, body, expected):
    assert lint(tmp_path, project(setup, body)) == expected


ARGS_MODEL = LSTM_MODEL.replace("cfg.batch_first", "cfg.batch_first")


@pytest.mark.parametrize(("arguments", "expected"), [
    ('p.add_argument("--batch-first", action="store_true")', DPL002),
    ('p.add_argument("--seq-first", dest="batch_first", action="store_false")', []),
    ('p.add_argument("--batch_first", type=int, default="0")', []),  # 0 is not a bool: unknown
    ('p.add_argument("--batch-first", type=str2bool, default="no")', []),  # unknown conversion
    ('p.add_argument("--batch-first", action="store_true")\n    p.set_defaults(batch_first=True)', []),
])
def test_argparse_defaults(tmp_path, arguments, expected):
    setup = f"import argparse\ndef get_args():\n    p = argparse.ArgumentParser()\n    {arguments}\n    return p.parse_args()\n"
    assert lint(tmp_path, project(setup, "args = get_args()\nmodel = Net(args)")) == expected


def test_engine_setting_from_a_config_attribute(tmp_path):
    model = LSTM_MODEL.replace("batch_first=cfg.batch_first", "batch_first=True")
    setup = "from dataclasses import dataclass\n@dataclass\nclass C:\n    batch_first: bool = False\n"
    files = project(setup, "cfg = C()\nmodel = Net(cfg)", model, engine=", batch_first=cfg.batch_first")
    assert lint(tmp_path, files) == DPL002


CLASS_MODEL = """
import functools
import torch.nn as nn

LAYERS = {{"bn": nn.BatchNorm1d, "ln": nn.LayerNorm}}


class Net(nn.Module):
    def __init__(self, norm="bn", norm_cls=nn.BatchNorm1d):
        super().__init__()
        self.fc = nn.Linear(8, 8)
        {line}

    def forward(self, x):
        return self.norm(self.fc(x))
"""


@pytest.mark.parametrize(("line", "construction", "expected"), [
    ("self.norm = norm_cls(8)", "Net()", True),
    ("self.norm = norm_cls(8)", "Net(norm_cls=nn.LayerNorm)", False),
    ("self.norm = LAYERS[norm](8)", "Net()", True),
    ("self.norm = LAYERS[norm](8)", "Net(norm='ln')", False),
    ("self.norm = LAYERS[norm](8)", "Net(norm=pick())", False),  # unknown key: no finding
    ("self.norm = getattr(nn, 'BatchNorm1d')(8)", "Net()", True),
    ("self.norm = functools.partial(nn.BatchNorm1d, eps=1e-3)(8)", "Net()", True),
    ("self.norm = (nn.BatchNorm1d if norm == 'bn' else nn.LayerNorm)(8)", "Net(norm='ln')", False),
    ("self.norm = (nn.BatchNorm1d if norm == 'bn' else nn.LayerNorm)(8)", "Net()", True),
    ("self.norm = nn.Identity()\n        if False:\n            self.norm = nn.BatchNorm1d(8)", "Net()", False),
])
def test_classes_as_values(tmp_path, line, construction, expected):
    files = {
        "model.py": CLASS_MODEL.format(line=line),
        "train.py": "import torch.nn as nn\nfrom opacus import PrivacyEngine\nfrom model import Net\n\n"
                    f"def main():\n    model = {construction}\n    PrivacyEngine().make_private(module=model)\n",
    }
    found = [code for _, _, code in lint(tmp_path, files)]
    assert ("DPL101" in found) is expected, found


@pytest.mark.parametrize(("default", "expected"), [("mlp", []), ("bn", ["DPL101"]), (None, ["DPL101"])])
def test_script_branches_fold_on_argparse_defaults(tmp_path, default, expected):
    files = {
        "model.py": "import torch.nn as nn\n\nclass MLP(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
                    "        self.fc = nn.Linear(4, 4)\n\n\nclass BNNet(nn.Module):\n    def __init__(self):\n"
                    "        super().__init__()\n        self.bn = nn.BatchNorm1d(4)\n",
        "train.py": "import argparse\nfrom opacus import PrivacyEngine\nfrom model import MLP, BNNet\n\n"
                    "def main():\n    parser = argparse.ArgumentParser()\n"
                    + (f"    parser.add_argument('--arch', default={default!r})\n" if default else
                       "    parser.add_argument('--arch', default=pick())\n")
                    + "    args = parser.parse_args()\n    if args.arch == 'mlp':\n        model = MLP()\n"
                    "    elif args.arch == 'bn':\n        model = BNNet()\n    else:\n        model = MLP()\n"
                    "    PrivacyEngine().make_private(module=model)\n",
    }
    assert [code for _, _, code in lint(tmp_path, files)] == expected


MOCO = """
import torch
import torch.nn as nn


class Encoder(nn.Module):
    def __init__(self, num_classes=8):
        super().__init__()
        self.fc = nn.Linear(4, num_classes)

    def forward(self, x):
        return self.fc(x)


class Pool(nn.Module):
    def __init__(self, num_classes=8):
        super().__init__()
        self.pool = nn.Identity()

    def forward(self, x):
        return self.pool(x)


class MoCo(nn.Module):
    def __init__(self, base_encoder, dim=8):
        super().__init__()
        self.encoder_q = base_encoder(num_classes=dim)
        self.encoder_k = base_encoder(num_classes=dim)

    def forward(self, q, k):
        with torch.no_grad():
            key = self.encoder_k(k)
        return self.encoder_q(q) * key
"""


@pytest.mark.parametrize(("constructions", "expected"), [
    ("model = MoCo(Encoder)\n", [("model.py", 27, "DPL003")]),
    ("model = MoCo(base_encoder=Encoder, dim=4)\n", [("model.py", 27, "DPL003")]),
    # A parameter-free class, two different classes, or a class dp-lint cannot tell: unknown.
    ("model = MoCo(Pool)\n", []),
    ("a = MoCo(Encoder)\nb = MoCo(Pool)\n", []),
    ("model = MoCo(pick())\n", []),
])
def test_a_class_passed_to_a_constructor_is_what_it_builds(tmp_path, constructions, expected):
    source = MOCO + "\n\n" + constructions
    assert lint(tmp_path, {"model.py": source}, select={"DPL003"}) == expected


EMA_TEACHER = """
import copy

import torch
import torch.nn as nn


class Wide(nn.Module):
    def __init__(self, num_classes=4):
        super().__init__()
        self.fc = nn.Linear(8, num_classes)

    def forward(self, x):
        return self.fc(x)


class Thin(nn.Module):
    def __init__(self, num_classes=4):
        super().__init__()
        self.fc = nn.Linear(8, num_classes, bias=False)

    def forward(self, x):
        return self.fc(x)


class Ema(nn.Module):
    def __init__(self, model):
        super().__init__()
        self.module = copy.deepcopy(model)

    def forward(self, x):
        return self.module(x)


NETWORKS = {"wide": Wide, "thin": Thin}


class MeanTeacher(nn.Module):
    def __init__(self, backbone="wide"):
        super().__init__()
        self.student = NETWORKS[backbone]()
        self.teacher = Ema(self.student)

    def forward(self, x):
        with torch.no_grad():
            target = self.teacher(x)
        return self.student(x) - target
"""


@pytest.mark.parametrize(("change", "expected"), [
    # Whichever key the instance gets, the student is trainable, so is its EMA copy (a copy: not
    # a second registration of the student, no DPL112).
    ({}, [("model.py", 41, "DPL003")]),
    # A registry some code adds to, or one with a parameter-free class: unknown.
    ({"\nclass MeanTeacher": "\nNETWORKS[\"other\"] = nn.Identity\n\n\nclass MeanTeacher"}, []),
    ({'"thin": Thin}': '"thin": Thin, "none": nn.Identity}'}, []),
    # The EMA wrapper freezes its copy: the teacher has nothing to train.
    ({"        self.module = copy.deepcopy(model)\n":
      "        self.module = copy.deepcopy(model)\n        self.module.requires_grad_(False)\n"}, []),
])
def test_a_registry_indexed_per_instance_and_an_ema_copy(tmp_path, change, expected):
    source = EMA_TEACHER
    for old, new in change.items():
        assert old in source
        source = source.replace(old, new)
    assert lint(tmp_path, {"model.py": source}, select={"DPL003", "DPL112"}) == expected


KD_FACTORY = """
import torch
import torch.nn as nn


class Conv(nn.Module):
    def __init__(self, num_classes=4):
        super().__init__()
        self.fc = nn.Linear(8, num_classes)

    def forward(self, x):
        return self.fc(x)


class Mlp(Conv):
    pass


ARCHS = {"conv": Conv, "mlp": Mlp}


def build_model(arch, **kwargs):
    if arch not in ARCHS:
        raise KeyError(arch)
    return ARCHS[arch](**kwargs)


class Distill(nn.Module):
    def __init__(self, student, teacher):
        super().__init__()
        self.student = student
        self.teacher = teacher

    def forward(self, x):
        with torch.no_grad():
            soft = self.teacher(x)
        return self.student(x) + soft


def main(name):
    teacher = build_model(name)
    return Distill(build_model("mlp"), teacher)
"""


@pytest.mark.parametrize(("change", "expected"), [
    ({}, [("model.py", 31, "DPL003")]),
    # Frozen in the script, or a registry that is handed on (may be filled elsewhere): no finding.
    ({"    teacher = build_model(name)\n": "    teacher = build_model(name).requires_grad_(False)\n"}, []),
    ({"def main(name):\n": "register(ARCHS)\n\n\ndef main(name):\n"}, []),
])
def test_a_registry_in_a_factory_builds_a_module_whatever_the_key(tmp_path, change, expected):
    source = KD_FACTORY
    for old, new in change.items():
        assert old in source
        source = source.replace(old, new)
    assert lint(tmp_path, {"model.py": source}, select={"DPL003"}) == expected

TRAINER = """
from opacus import PrivacyEngine


class Trainer:
    def __init__(self, model, cfg):
        self.model = model
        self.cfg = cfg

    def setup(self):
        self.model, self.opt, self.loader = PrivacyEngine().make_private(
            module=self.model, optimizer=None, data_loader=None, batch_first=self.cfg.batch_first)
"""


@pytest.mark.parametrize(("script", "expected"), [
    # the one construction of the trainer passes a config whose default is False
    ("cfg = C()\nTrainer(Net(), cfg).setup()", DPL002),
    ("cfg = C(batch_first=True)\nTrainer(Net(), cfg).setup()", []),
    # built twice with different configs: which one a method sees is not known
    ("Trainer(Net(), C()).setup()\nTrainer(Net(), C(batch_first=True)).setup()", []),
])
def test_a_trainer_attribute_is_what_its_one_construction_stores(tmp_path, script, expected):
    model = LSTM_MODEL.replace("batch_first=cfg.batch_first", "batch_first=True").replace("(self, cfg)", "(self)")
    main = "\n".join("    " + line for line in script.splitlines())
    files = {
        "model.py": model,
        "trainer.py": TRAINER,
        "train.py": "from dataclasses import dataclass\nfrom model import Net\nfrom trainer import Trainer\n\n\n"
                    "@dataclass\nclass C:\n    batch_first: bool = False\n\n\ndef main():\n" + main + "\n",
    }
    assert lint(tmp_path, files) == expected


def test_a_trainer_attribute_another_method_rebinds_stays_unknown(tmp_path):
    trainer = TRAINER + "\n    def reconfigure(self, cfg):\n        self.cfg = cfg\n"
    model = LSTM_MODEL.replace("batch_first=cfg.batch_first", "batch_first=True").replace("(self, cfg)", "(self)")
    files = {
        "model.py": model, "trainer.py": trainer,
        "train.py": "from dataclasses import dataclass\nfrom model import Net\nfrom trainer import Trainer\n\n\n"
                    "@dataclass\nclass C:\n    batch_first: bool = False\n\n\ndef main():\n    Trainer(Net(), C()).setup()\n",
    }
    assert lint(tmp_path, files) == []


FACTORY_MODEL = """
import torch.nn as nn

NORMS = {"bn": nn.BatchNorm1d, "ln": nn.LayerNorm}


class Net(nn.Module):
    def __init__(self, norm_cls=nn.LayerNorm):
        super().__init__()
        self.norm = norm_cls(8)

    def forward(self, x):
        return self.norm(x)


def build(cfg):
    return Net(norm_cls=NORMS[cfg["norm"]])
"""


@pytest.mark.parametrize(("script", "expected"), [
    # the factory's parameter is what its one call passes
    ('model = build({"norm": "bn"})', [("model.py", 9, "DPL101")]),
    ('model = build({"norm": "ln"})', []),
    # called twice, or used as a value (a callback): its parameter stays unknown
    ('model = build({"norm": "bn"})\n    other = build({"norm": "ln"})', []),
    ('model = build({"norm": "bn"})\n    hooks = [build]', []),
])
def test_a_factory_parameter_is_what_its_one_call_passes(tmp_path, script, expected):
    files = {
        "model.py": FACTORY_MODEL,
        "train.py": "from opacus import PrivacyEngine\nfrom model import build\n\n\ndef main():\n    " + script
                    + "\n    PrivacyEngine().make_private(module=model, optimizer=None, data_loader=None)\n",
    }
    assert lint(tmp_path, files, select=["DPL101"]) == expected


@pytest.mark.parametrize(("parse", "arguments", "expected"), [
    # `parse_args(argv)` of a `main(argv=None)`: the command line, defaults hold as for parse_args()
    ("p.parse_args(argv)", 'p.add_argument("--batch-first", action="store_true")', DPL002),
    ("p.parse_args(argv)", 'p.add_argument("--batch-first", action="store_false")', []),
    # options written into the call are not the defaults
    ('p.parse_args(["--batch-first"])', 'p.add_argument("--batch-first", action="store_true")', []),
])
def test_argparse_with_an_argv_parameter(tmp_path, parse, arguments, expected):
    setup = f"import argparse\ndef get_args(argv=None):\n    p = argparse.ArgumentParser()\n    {arguments}\n    return {parse}\n"
    body = "args = get_args()\nmodel = Net(args)"
    assert lint(tmp_path, project(setup, body)) == expected


GHOST_SCRIPT = """
from dataclasses import dataclass

import torch.nn as nn
from opacus import PrivacyEngine


@dataclass
class DPConfig:
    grad_sample_mode: str = "ghost"
    clipping: str = {clipping!r}
    reduction: str = {reduction!r}


def make_criterion(reduction):
    return nn.CrossEntropyLoss(reduction=reduction)


def main(model, optimizer, loader):
    cfg = DPConfig()
    criterion = make_criterion(cfg.reduction)
    model, optimizer, dp_criterion, loader = PrivacyEngine().make_private(
        module=model, optimizer=optimizer, data_loader=loader, criterion=criterion,
        noise_multiplier=1.0, max_grad_norm=1.0, grad_sample_mode=cfg.grad_sample_mode, clipping=cfg.clipping)
    for x, y in loader:
        dp_criterion(model(x), y).backward()
"""


@pytest.mark.parametrize(("clipping", "reduction", "expected"), [
    ("flat", "mean", []),
    ("per_layer", "mean", [("train.py", 23, "DPL204")]),  # clipping from a config field
    ("flat", "sum", [("train.py", 22, "DPL105")]),  # reduction through a criterion helper's parameter
])
def test_training_settings_from_a_config(tmp_path, clipping, reduction, expected):
    files = {"train.py": GHOST_SCRIPT.format(clipping=clipping, reduction=reduction)}
    assert lint(tmp_path, files, select=["DPL204", "DPL105"]) == expected


CONFIG_NORM_MODEL = """
from dataclasses import dataclass

import torch.nn as nn


@dataclass
class ModelConfig:
    hidden: int = 8
    norm_layer: type = nn.BatchNorm1d


class Net(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.norm = cfg.norm_layer(cfg.hidden)

    def forward(self, x):
        return self.norm(x)
"""


@pytest.mark.parametrize(("construction", "expected"), [
    ("Net(ModelConfig())", [("model.py", 15, "DPL101")]),  # the class a config field holds
    ("Net(ModelConfig(norm_layer=nn.LayerNorm))", []),
    ("Net(load_config())", []),  # a config dp-lint cannot see: unknown
])
def test_a_class_held_by_a_config_field(tmp_path, construction, expected):
    files = {
        "model.py": CONFIG_NORM_MODEL,
        "train.py": "import torch.nn as nn\nfrom opacus import PrivacyEngine\nfrom model import ModelConfig, Net\n\n\n"
                    f"def main(load_config):\n    model = {construction}\n"
                    "    PrivacyEngine().make_private(module=model, optimizer=None, data_loader=None)\n",
    }
    assert lint(tmp_path, files, select=["DPL101"]) == expected


@pytest.mark.parametrize(("helper", "expected"), [
    ("def get_loss():\n    return F.cross_entropy\n", [("train.py", 12, "DPL201")]),  # a function
    ("def get_loss():\n    return nn.CrossEntropyLoss()\n", []),  # a loss module
    ("def get_loss(fn):\n    return fn\n", []),  # whatever the caller passes: unknown
])
def test_a_ghost_criterion_from_a_helper(tmp_path, helper, expected):
    call = "get_loss(F.cross_entropy)" if "(fn)" in helper else "get_loss()"
    script = ("import torch.nn as nn\nimport torch.nn.functional as F\nfrom opacus import PrivacyEngine\n\n"
              f"{helper}\n\ndef main(model, optimizer, loader):\n    loss_fn = {call}\n"
              "    model, optimizer, criterion, loader = PrivacyEngine().make_private(\n"
              "        module=model, optimizer=optimizer, data_loader=loader, criterion=loss_fn,\n"
              "        noise_multiplier=1.0, max_grad_norm=1.0, grad_sample_mode=\"ghost\")\n")
    assert lint(tmp_path, {"train.py": script}, select=["DPL201"]) == expected


def _factory_files(extra: dict[str, str] | None = None, model: str = FACTORY_MODEL) -> dict[str, str]:
    return {
        "model.py": model,
        "train.py": "from opacus import PrivacyEngine\nfrom model import build\n\n\ndef main():\n"
                    '    model = build({"norm": "bn"})\n'
                    "    PrivacyEngine().make_private(module=model, optimizer=None, data_loader=None)\n",
        **(extra or {}),
    }


def test_a_same_named_function_elsewhere_is_not_a_call_of_the_factory(tmp_path):
    other = {"other/tools.py": "def build(spec):\n    return spec\n\n\nhandlers = [build]\nbuild(1)\nbuild(2)\n"}
    assert lint(tmp_path, _factory_files(other), select=["DPL101"]) == [("model.py", 9, "DPL101")]


def test_a_decorated_factory_parameter_stays_unknown(tmp_path):
    # `@hydra.main`, `@click.command`: the framework calls the function with other arguments
    model = FACTORY_MODEL.replace("def build(cfg):", "@register\ndef build(cfg):")
    assert lint(tmp_path, _factory_files(model=model), select=["DPL101"]) == []

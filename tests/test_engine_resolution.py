"""The model an engine call wraps, followed through tuple assignments and helper parameters
(issue 10, item 2): a model that is never made private gets no layer finding."""

from __future__ import annotations

import pytest
from lint_helpers import lint

MODELS = """
import torch.nn as nn


class WithBatchNorm(nn.Module):
    def __init__(self, d=16):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(d, d), nn.BatchNorm1d(d))

    def forward(self, x):
        return self.net(x)


class Plain(nn.Module):
    def __init__(self, d=16):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(d, d), nn.LayerNorm(d))

    def forward(self, x):
        return self.net(x)
"""

BATCHNORM = ("models.py", 7, "DPL101")

ENGINE = "PrivacyEngine().make_private(module={model}, optimizer=None, data_loader=None, noise_multiplier=1.0, max_grad_norm=1.0)"


def check(tmp_path, script: str):
    header = "from opacus import PrivacyEngine\nfrom models import Plain, WithBatchNorm\n"
    return [f for f in lint(tmp_path, {"models.py": MODELS, "train.py": header + script}) if f[2] == "DPL101"]


def test_tuple_assignment_is_followed(tmp_path):
    script = f"g, d = WithBatchNorm(), Plain()\n{ENGINE.format(model='d')}\n"
    assert check(tmp_path / "plain", script) == []
    script = f"d, g = WithBatchNorm(), Plain()\n{ENGINE.format(model='d')}\n"
    assert check(tmp_path / "bn", script) == [BATCHNORM]
    # Nested tuples pair up too; an unpacked call result does not (unknown: every model is checked).
    script = f"(g, d), n = (WithBatchNorm(), Plain()), 3\n{ENGINE.format(model='d')}\n"
    assert check(tmp_path / "nested", script) == []
    script = f"g, d = build()\n{ENGINE.format(model='d')}\n"
    assert check(tmp_path / "call", script) == [BATCHNORM]


HELPER = f"""
def run(model, loader, epochs=1):
    {ENGINE.format(model='model')}
"""


def test_a_helper_parameter_resolves_to_what_its_callers_pass(tmp_path):
    assert check(tmp_path / "plain", HELPER + "\nrun(Plain(), None)\n") == []
    assert check(tmp_path / "keyword", HELPER + "\ndef main(loader):\n    model = Plain()\n    run(loader=loader, model=model)\n") == []
    assert check(tmp_path / "bn", HELPER + "\nrun(WithBatchNorm(), None)\n") == [BATCHNORM]


def test_a_helper_parameter_stays_unknown_unless_every_caller_agrees(tmp_path):
    # Two callers with different models, a caller passing *args, no caller at all: unresolved,
    # so every model of the project may be the private one.
    both = HELPER + "\nrun(Plain(), None)\nrun(WithBatchNorm(), None)\n"
    assert check(tmp_path / "both", both) == [BATCHNORM]
    starred = HELPER + "\nargs = (Plain(), None)\nrun(*args)\n"
    assert check(tmp_path / "starred", starred) == [BATCHNORM]
    assert check(tmp_path / "uncalled", HELPER) == [BATCHNORM]
    # A caller inside an `if` test counts as a caller too.
    branch = HELPER + "\nrun(Plain(), None)\nif run(WithBatchNorm(), None):\n    pass\n"
    assert check(tmp_path / "branch", branch) == [BATCHNORM]


def _confidences(tmp_path, script: str) -> dict[int, str]:
    import textwrap

    from dp_lint.files.discovery import discover
    from dp_lint.lint.check import check_files

    header = "from opacus import PrivacyEngine\nfrom models import Plain, WithBatchNorm, shared\n"
    models = MODELS + "\n\ndef shared(d=16):\n    return nn.Sequential(nn.Linear(d, d), nn.BatchNorm1d(d))\n"
    (tmp_path / "models.py").write_text(textwrap.dedent(models).lstrip("\n"), encoding="utf-8")
    (tmp_path / "train.py").write_text(header + script, encoding="utf-8")
    result = check_files(discover([tmp_path]), select={"DPL101"})
    # The engine alternatives are named in the help text (the message stays short).
    return {f.location.row: f"{f.confidence.value}: {f.message} {f.help}" for f in result.findings}


ALTERNATIVES = f"""
if arch == "plain":
    model = Plain()
else:
    model = WithBatchNorm()
model = model.to("cpu")
{ENGINE.format(model='model')}
"""


def test_alternatives_on_unresolved_branches(tmp_path):
    found = _confidences(tmp_path, ALTERNATIVES)
    assert list(found) == [7]
    assert found[7].startswith("medium: ") and "when the model is WithBatchNorm (one of Plain, WithBatchNorm)" in found[7]


def test_a_layer_every_alternative_holds_is_reported_at_high_confidence(tmp_path):
    import textwrap

    from dp_lint.files.discovery import discover
    from dp_lint.lint.check import check_files

    models = """
        import torch.nn as nn


        class Base(nn.Module):
            def __init__(self, d=16):
                super().__init__()
                self.norm = nn.BatchNorm1d(d)


        class A(Base):
            def forward(self, x):
                return self.norm(x)


        class B(Base):
            def __init__(self, d=16):
                super().__init__(d)
                self.extra = nn.BatchNorm1d(d)

            def forward(self, x):
                return self.extra(self.norm(x))
        """
    script = "from opacus import PrivacyEngine\nfrom models import A, B\n" + ALTERNATIVES.replace(
        "Plain()", "A()").replace("WithBatchNorm()", "B()")
    (tmp_path / "models.py").write_text(textwrap.dedent(models).lstrip("\n"), encoding="utf-8")
    (tmp_path / "train.py").write_text(script, encoding="utf-8")
    found = {f.location.row: f.confidence.value for f in check_files(discover([tmp_path]), select={"DPL101"}).findings}
    assert found == {7: "high", 18: "medium"}


def test_tuple_returned_by_a_project_factory_is_unpacked(tmp_path):
    # `netG, netD = build_models(opt)` (a DCGAN script): element 1 of the returned tuple is the
    # model; the engine's own unpacked result (`netD, opt, dl = make_private(...)`) rebinds it.
    factory = "def build_models():\n    g = WithBatchNorm()\n    d = Plain()\n    return g, d\n\n\n"
    private = "d, optimizer, loader = " + ENGINE.format(model="d") + "\n"
    script = factory + "def main():\n    g, d = build_models()\n    " + private
    assert check(tmp_path / "plain", script) == []
    swapped = script.replace("g, d = build_models()", "d, g = build_models()")
    assert check(tmp_path / "bn", swapped) == [BATCHNORM]
    # Returns that disagree on the shape, or another unpacking of the name: unknown.
    branches = factory.replace("    return g, d\n", "    if g:\n        return g, d, 3\n    return g, d\n")
    assert check(tmp_path / "shapes", branches + "def main():\n    g, d = build_models()\n    " + private) == [BATCHNORM]
    twice = script + "    g, d = load()\n"
    assert check(tmp_path / "twice", twice) == [BATCHNORM]


BLOCKS = """
import torch.nn as nn


class Block(nn.Module):
    def __init__(self, d=8):
        super().__init__()
        self.fc = nn.Linear(d, d)
        self.unused = nn.Linear(d, d)

    def forward(self, x):
        return self.fc(x)


class Net(nn.Module):
    def __init__(self, block, n=2):
        super().__init__()
        self.body = self._make_layer(block, n)

    def _make_layer(self, block, n):
        return nn.Sequential(*[block() for _ in range(n)])

    def forward(self, x):
        return self.body(x)
"""


def test_a_module_class_handed_to_a_private_model_may_be_private(tmp_path):
    # `Net(Block)` builds its blocks in a method dp-lint does not follow; the class handed in is
    # still part of the private model, so its unused layer is reported (DPL003).
    private = "from opacus import PrivacyEngine\nfrom blocks import Block, Net\nmodel = Net(Block)\n" + ENGINE.format(model="model") + "\n"
    found = lint(tmp_path / "a", {"blocks.py": BLOCKS, "train.py": private})
    assert [(path, row, code) for path, row, code in found if code == "DPL003"] == [("blocks.py", 8, "DPL003")]
    # Handed only to a model that is never made private (a GAN's generator): not reported.
    gan = ("from opacus import PrivacyEngine\nimport torch.nn as nn\nfrom blocks import Block, Net\n\n\n"
           "class Critic(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
           "        self.fc = nn.Linear(8, 1)\n\n    def forward(self, x):\n        return self.fc(x)\n\n\n"
           "generator = Net(Block)\ndiscriminator = Critic()\n" + ENGINE.format(model="discriminator") + "\n")
    found = lint(tmp_path / "b", {"blocks.py": BLOCKS, "train.py": gan})
    assert [code for _, _, code in found if code == "DPL003"] == []

BN_MODEL = """
import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8))

    def forward(self, x):
        return self.net(x)
"""


def _helper_project(helper_body: str) -> dict[str, str]:
    return {
        "model.py": BN_MODEL,
        "engine.py": "from opacus import PrivacyEngine\nfrom opacus.validators import ModuleValidator\n\n\n"
                     "def make_private(model, optimizer, loader):\n" + helper_body,
        "train.py": "from engine import make_private\nfrom model import Net\n\n\n"
                    "def main(opt, loader):\n    return make_private(Net(), opt, loader)\n",
    }


def test_validator_fix_after_the_engine_call_does_not_count(tmp_path):
    # `engine` is a local PrivacyEngine, not the project module `engine`: its make_private is not the helper.
    body = ("    engine = PrivacyEngine()\n"
            "    model, optimizer, loader = engine.make_private(module=model, optimizer=optimizer, data_loader=loader)\n"
            "    model = ModuleValidator.fix(model)\n    return model, optimizer, loader\n")
    assert lint(tmp_path, _helper_project(body), select=["DPL101"]) == [("model.py", 7, "DPL101")]


def test_validator_fix_of_a_helper_parameter_before_the_engine_call(tmp_path):
    body = ("    model = ModuleValidator.fix(model)\n"
            "    return PrivacyEngine().make_private(module=model, optimizer=optimizer, data_loader=loader)\n")
    assert lint(tmp_path, _helper_project(body), select=["DPL101"]) == []


EPOCH_SCRIPT = """
from opacus import PrivacyEngine


def train_epoch(model, loader, optimizer):
    for x, y in loader:
        model(x).sum().backward()
        optimizer.step()


def evaluate(model, loader):
    for x, y in loader:
        model(x)


def main(model, optimizer, train_loader, other):
    model, optimizer, private_loader = PrivacyEngine().make_private(
        module=model, optimizer=optimizer, data_loader=train_loader)
    {line}
"""


@pytest.mark.parametrize(("line", "expected"), [
    ("train_epoch(model, train_loader, optimizer)", [("train.py", 18, "DPL205")]),  # the helper trains on it
    ("train_epoch(model, private_loader, optimizer)", []),
    ("evaluate(model, train_loader)", []),  # no backward, no step: evaluation
    ("train_epoch(other, train_loader, other.opt)", []),  # another model, not the private one
])
def test_the_original_loader_handed_to_a_training_helper(tmp_path, line, expected):
    files = {"train.py": EPOCH_SCRIPT.format(line=line)}
    assert lint(tmp_path, files, select=["DPL205"]) == expected

"""The training-script questions behind DPL206 and DPL207 (dp_lint/analysis/training.py):
`TrainingSetup.loss_scalings` (which GradScaler scales a loss after the engine call, through
trainer methods and helpers) and `TrainingSetup.validator_fix_after_optimizer` (the optimizer built
before `ModuleValidator.fix` replaced the model). Unknown stays unknown: no answer."""

from __future__ import annotations

import textwrap
from pathlib import Path

import libcst as cst

from dp_lint.analysis.project import Project
from dp_lint.files.source import parse_text

HEADER = """
import torch
import torch.nn as nn
from opacus import PrivacyEngine
from opacus.validators import ModuleValidator
"""


def _project(tmp_path: Path, body: str) -> Project:
    text = textwrap.dedent(HEADER) + textwrap.dedent(body)
    return Project([parse_text(tmp_path / "train.py", "train", text)])


def _code(node: cst.CSTNode) -> str:
    return cst.Module([]).code_for_node(node)


def _scalings(tmp_path, body):
    project = _project(tmp_path, body)
    (setup,) = project.training_setups
    return [(_code(s.call), s.scaler, s.qualname, s.steps_private_optimizer) for s in setup.loss_scalings(project.index)]


ENGINE = """
    model, optimizer, loader = PrivacyEngine().make_private(
        module=model, optimizer=optimizer, data_loader=loader, noise_multiplier=1.0, max_grad_norm=1.0)
"""


def test_a_scaler_built_in_the_function_that_steps_the_dp_optimizer(tmp_path):
    body = "def main(model, optimizer, loader):" + ENGINE + """
    scaler = torch.amp.GradScaler("cpu")
    for x, y in loader:
        loss = nn.functional.cross_entropy(model(x), y)
        scaler.scale(loss).backward()
        scaler.step(optimizer)
"""
    assert _scalings(tmp_path, body) == [("scaler.scale(loss)", "scaler", "torch.amp.GradScaler", True)]


def test_the_scaled_value_may_be_named_before_backward_and_the_scaler_imported(tmp_path):
    body = "from torch.cuda.amp import GradScaler\n\ndef main(model, optimizer, loader):" + ENGINE + """
    scaler = GradScaler()
    for x, y in loader:
        scaled = scaler.scale(model(x).sum())
        scaled.backward()
        optimizer.step()
"""
    # No `scaler.step(optimizer)`: the scaler is not known to step the private optimizer.
    assert _scalings(tmp_path, body) == [("scaler.scale(model(x).sum())", "scaler", "torch.cuda.amp.GradScaler", False)]


def test_disabled_unknown_and_foreign_scalers_give_no_answer(tmp_path):
    for construction in ('torch.amp.GradScaler("cpu", enabled=False)', 'torch.amp.GradScaler("cpu", enabled=flag)',
                         'torch.cuda.amp.GradScaler(2.0 ** 16, 2.0, 0.5, 2000, False)', "make_scaler()",
                         "torch.amp.GradScaler(**options)"):
        body = "def main(model, optimizer, loader, flag, options):" + ENGINE + f"""
    scaler = {construction}
    for x, y in loader:
        scaler.scale(model(x).sum()).backward()
        scaler.step(optimizer)
"""
        assert _scalings(tmp_path, body) == [], construction


def test_scaling_before_the_engine_call_is_not_in_the_training(tmp_path):
    body = "def main(model, optimizer, loader):" + """
    scaler = torch.amp.GradScaler("cpu")
    for x, y in loader:
        scaler.scale(model(x).sum()).backward()
        scaler.step(optimizer)
""" + ENGINE
    assert _scalings(tmp_path, body) == []


def test_a_trainer_attribute_scaler_in_another_method(tmp_path):
    body = """
class Trainer:
    def __init__(self, model, optimizer, loader):
        self.model, self.optimizer, self.loader = model, optimizer, loader
        self.scaler = torch.GradScaler("cpu")

    def step(self, x):
        self.scaler.scale(self.model(x).sum()).backward()
        self.scaler.step(self.optimizer)

    def fit(self):
        self.model, self.optimizer, self.loader = PrivacyEngine().make_private(
            module=self.model, optimizer=self.optimizer, data_loader=self.loader,
            noise_multiplier=1.0, max_grad_norm=1.0)
"""
    assert _scalings(tmp_path, body) == [("self.scaler.scale(self.model(x).sum())", "self.scaler", "torch.GradScaler", True)]


def test_a_helper_gets_the_scaler_and_the_dp_optimizer_as_arguments(tmp_path):
    body = """
def train_one_epoch(net, opt, batches, amp_scaler):
    for x in batches:
        amp_scaler.scale(net(x).sum()).backward()
        amp_scaler.step(opt)


def main(model, optimizer, loader):""" + ENGINE + """
    scaler = torch.amp.GradScaler("cpu")
    train_one_epoch(model, optimizer, loader, amp_scaler=scaler)
"""
    assert _scalings(tmp_path, body) == [("amp_scaler.scale(net(x).sum())", "amp_scaler", "torch.amp.GradScaler", True)]
    # The helper steps another optimizer than the private one.
    other = body.replace("train_one_epoch(model, optimizer,", "train_one_epoch(model, other_optimizer,")
    assert [s[3] for s in _scalings(tmp_path, other)] == [False]


def _fix(tmp_path, body):
    project = _project(tmp_path, body)
    (setup,) = project.training_setups
    found = setup.validator_fix_after_optimizer(project.index)
    if found is None:
        return None
    return (found.optimizer, found.owner, found.fixed, _code(found.fix_call), _code(found.construction))


MAKE_PRIVATE = """
    model, optimizer, loader = PrivacyEngine().make_private(
        module=MODEL, optimizer=optimizer, data_loader=loader, noise_multiplier=1.0, max_grad_norm=1.0)
"""


def _main(lines: str, module: str = "model") -> str:
    return "def main(model, loader):\n" + textwrap.indent(textwrap.dedent(lines), "    ") + MAKE_PRIVATE.replace("MODEL", module)


def test_the_fix_after_the_optimizer_in_one_function(tmp_path):
    body = _main("""
        optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
        model = ModuleValidator.fix(model)
    """)
    assert _fix(tmp_path, body) == ("optimizer", "model", "model", "ModuleValidator.fix(model)",
                                    "torch.optim.SGD(model.parameters(), lr=0.1)")


def test_submodule_parameters_groups_and_fix_and_validate(tmp_path):
    body = _main("""
        groups = [{"params": model.backbone.parameters(), "lr": 0.01}]
        optimizer = torch.optim.Adam(groups + [{"params": model.head.parameters()}])
        fixed = ModuleValidator.fix_and_validate(model)
    """, module="fixed")
    assert _fix(tmp_path, body)[:3] == ("optimizer", "model", "fixed")


def test_right_orders_and_unknowns_give_no_answer(tmp_path):
    shapes = {
        "fix first": """
            model = ModuleValidator.fix(model)
            optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
        """,
        "optimizer rebuilt": """
            optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
            model = ModuleValidator.fix(model)
            optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
        """,
        "model rebound after the fix": """
            optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
            model = ModuleValidator.fix(model)
            model = build_model()
        """,
        "validate copies nothing": """
            optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
            model = ModuleValidator.validate(model)
        """,
        "optimizer of unknown parameters": """
            optimizer = torch.optim.SGD(params, lr=0.1)
            model = ModuleValidator.fix(model)
        """,
        "optimizer from an unknown factory": """
            optimizer = make_optimizer(model)
            model = ModuleValidator.fix(model)
        """,
        "another model's parameters": """
            optimizer = torch.optim.SGD(teacher.parameters(), lr=0.1)
            model = ModuleValidator.fix(model)
        """,
    }
    for name, lines in shapes.items():
        assert _fix(tmp_path, _main(lines)) is None, name


def test_an_optimizer_helper_of_the_project(tmp_path):
    body = """
def build_optimizer(net, lr):
    decay = [p for n, p in net.named_parameters() if "bias" not in n]
    return torch.optim.AdamW([{"params": decay}], lr=lr)


""" + _main("""
        optimizer = build_optimizer(model, 0.1)
        model = ModuleValidator.fix(model)
    """)
    assert _fix(tmp_path, body)[:3] == ("optimizer", "model", "model")


TRAINER = """
class Trainer:
    def __init__(self, model, loader):
        self.model, self.loader = model, loader
        self.optimizer = torch.optim.SGD(self.model.parameters(), lr=0.1)

    def fit(self):
        self.model = ModuleValidator.fix(self.model)
        self.model, self.optimizer, self.loader = PrivacyEngine().make_private(
            module=self.model, optimizer=self.optimizer, data_loader=self.loader,
            noise_multiplier=1.0, max_grad_norm=1.0)
"""


def test_a_trainer_builds_the_optimizer_in_init_and_fixes_in_fit(tmp_path):
    assert _fix(tmp_path, TRAINER)[:3] == ("self.optimizer", "self.model", "self.model")
    # Another method assigns the optimizer too: the order is unknown.
    other = TRAINER + """
    def reset(self):
        self.optimizer = torch.optim.SGD(self.model.parameters(), lr=0.1)
"""
    assert _fix(tmp_path, other) is None


def _repeated(tmp_path, body):
    from dp_lint.analysis.training import repeated_engine_calls

    project = _project(tmp_path, body)
    return [(r.model, r.earlier is not None, r.repeats, r.unconditional)
            for r in repeated_engine_calls(project.training_setups)]


ROUND = """
        optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
        dp_model, optimizer, dp_loader = PrivacyEngine().make_private(
            module=model, optimizer=optimizer, data_loader=loader, noise_multiplier=1.0, max_grad_norm=1.0)
"""


def test_an_engine_call_in_a_loop_on_one_model(tmp_path):
    assert _repeated(tmp_path, "def main(model, loader):\n    for r in range(3):" + ROUND) == [("model", False, True, True)]
    assert _repeated(tmp_path, "def main(model, loader, rounds):\n    for r in range(rounds):" + ROUND) == \
        [("model", False, None, True)]
    # A `break` of an inner loop does not end the rounds.
    inner = ROUND + "        for x in dp_loader:\n            break\n"
    assert _repeated(tmp_path, "def main(model, loader):\n    while True:" + inner) == [("model", False, None, True)]


def test_loops_that_rebind_the_model_unhook_it_or_run_once_give_no_answer(tmp_path):
    shapes = {
        "one round": "    for r in range(1):" + ROUND,
        "rebinds to the returned module": "    for r in range(3):" + ROUND.replace("dp_model, optimizer", "model, optimizer"),
        "fresh copy": "    for r in range(3):\n        model = copy.deepcopy(base)" + ROUND,
        "loop target": "    for model in models:" + ROUND,
        "remove_hooks": "    for r in range(3):" + ROUND + "        dp_model.remove_hooks()\n",
        "break": "    for r in range(3):" + ROUND + "        break\n",
        "return": "    for r in range(3):" + ROUND + "        return dp_model\n",
    }
    for name, lines in shapes.items():
        assert _repeated(tmp_path, "def main(model, loader, models, base):\n" + lines) == [], name


def test_a_second_call_on_the_same_name_in_one_function(tmp_path):
    twice = "def main(model, loader):" + ROUND.replace("        ", "    ") + ROUND.replace("        ", "    ")
    assert _repeated(tmp_path, twice) == [("model", True, True, True)]
    under_if = "def main(model, loader, again):" + ROUND.replace("        ", "    ") + "    if again:" + ROUND
    assert _repeated(tmp_path, under_if) == [("model", True, True, False)]
    branches = "def main(model, loader, eps):\n    if eps:" + ROUND + "    else:" + ROUND
    assert _repeated(tmp_path, branches) == []
    rebound = twice.replace("    dp_model, optimizer", "    model, optimizer", 1)
    assert _repeated(tmp_path, rebound) == []


def _eval(tmp_path, body):
    from dp_lint.analysis.training import eval_mode_at_engine_call

    project = _project(tmp_path, body)
    (setup,) = project.training_setups
    at_engine = eval_mode_at_engine_call(setup, project.index)
    loops = [(_code(e.eval_call), e.model, e.through, e.when, e.repeats) for e in setup.eval_mode_training(project.index)]
    return (_code(at_engine) if at_engine is not None else None), loops


STEP = """
        for x, y in dp_loader:
            optimizer.zero_grad()
            nn.functional.cross_entropy(dp_model(x), y).backward()
            optimizer.step()
"""
PRIVATE = """
    dp_model, optimizer, dp_loader = PrivacyEngine().make_private(
        module=model, optimizer=optimizer, data_loader=loader, noise_multiplier=1.0, max_grad_norm=1.0)
"""


def test_eval_mode_at_the_engine_call(tmp_path):
    assert _eval(tmp_path, "def main(model, optimizer, loader):\n    model.eval()" + PRIVATE) == ("model.eval()", [])
    assert _eval(tmp_path, "def main(model, optimizer, loader):\n    model.eval()\n    model.train()" + PRIVATE) == (None, [])
    assert _eval(tmp_path, "def main(model, optimizer, loader, flag):\n    model.train(flag)" + PRIVATE) == (None, [])
    assert _eval(tmp_path, "def main(model, optimizer, loader):\n    model.eval()\n    model = Net()" + PRIVATE) == (None, [])


def test_a_validation_round_without_train_and_its_twins(tmp_path):
    head = "def main(model, optimizer, loader, epochs):" + PRIVATE
    broken = head + "    for epoch in range(epochs):" + STEP + "        dp_model.eval()\n"
    assert _eval(tmp_path, broken) == (None, [("dp_model.eval()", "dp_model", None, "round", None)])
    assert _eval(tmp_path, broken.replace("range(epochs)", "range(3)"))[1][0][4] is True
    assert _eval(tmp_path, broken.replace("range(epochs)", "range(1)")) == (None, [])
    restored = head + "    for epoch in range(epochs):\n        dp_model.train()" + STEP + "        dp_model.eval()\n"
    assert _eval(tmp_path, restored) == (None, [])
    unknown = head + "    for epoch in range(epochs):" + STEP + "        dp_model.eval()\n        other.validate(dp_model)\n"
    assert _eval(tmp_path, unknown) == (None, [])
    printed = head + "    for epoch in range(epochs):" + STEP + "        dp_model.eval()\n        print(dp_model)\n"
    assert _eval(tmp_path, printed)[1] == [("dp_model.eval()", "dp_model", None, "round", None)]


def test_helpers_that_switch_the_mode(tmp_path):
    helpers = """
def evaluate(net):
    net.eval()


def fit(net):
    net.train()


"""
    entry = helpers + "def main(model, optimizer, loader):" + PRIVATE + "    evaluate(dp_model)\n    for _ in range(2):" + STEP
    assert _eval(tmp_path, entry) == (None, [("evaluate(dp_model)", "dp_model", "evaluate", "entry", None)])
    restored = entry.replace("    for _ in range(2):", "    for _ in range(2):\n        fit(dp_model)")
    assert _eval(tmp_path, restored) == (None, [])
    at_engine = helpers + "def main(model, optimizer, loader):\n    evaluate(model)" + PRIVATE
    assert _eval(tmp_path, at_engine)[0] == "evaluate(model)"


def test_list_displays_say_how_many_rounds_and_submodule_walks_hide_the_mode(tmp_path):
    assert _repeated(tmp_path, "def main(model, loader):\n    for lr in [0.1]:" + ROUND) == []
    assert _repeated(tmp_path, "def main(model, loader):\n    for lr in (0.1, 0.01):" + ROUND) == [("model", False, True, True)]
    head = "def main(model, optimizer, loader, epochs):" + PRIVATE
    walked = head + "    for epoch in range(epochs):\n        for m in dp_model.modules():\n            m.train()" + STEP + \
        "        dp_model.eval()\n"
    assert _eval(tmp_path, walked) == (None, [])


def test_a_training_loop_through_a_helper_is_a_training_loop(tmp_path):
    helpers = """
def evaluate(net):
    net.eval()


def train_one_epoch(net, loader, optimizer):
    for x, y in loader:
        nn.functional.cross_entropy(net(x), y).backward()
        optimizer.step()


"""
    body = helpers + "def main(model, optimizer, loader):" + PRIVATE + \
        "    evaluate(dp_model)\n    for _ in range(2):\n        train_one_epoch(dp_model, dp_loader, optimizer)\n"
    assert _eval(tmp_path, body) == (None, [("evaluate(dp_model)", "dp_model", "evaluate", "entry", None)])
    restoring = body.replace("def train_one_epoch(net, loader, optimizer):\n", "def train_one_epoch(net, loader, optimizer):\n    net.train()\n")
    assert _eval(tmp_path, restoring) == (None, [])


# -- wrap_model=False: the first result is a hooks object (DPL214) ------------------------

def _hooks_uses(tmp_path, body):
    project = _project(tmp_path, body)
    (setup,) = project.training_setups
    return setup.wrap_model, [(_code(u.use), u.name, u.how, u.through) for u in setup.hooks_used_as_model(project.index)]


WRAP_FALSE = """
    model, optimizer, loader = PrivacyEngine().make_private(
        module=model, optimizer=optimizer, data_loader=loader, noise_multiplier=1.0, max_grad_norm=1.0,
        wrap_model=WRAP)
"""


def test_wrap_model_is_read_from_the_call_and_defaults_to_true(tmp_path):
    assert _hooks_uses(tmp_path, "def main(model, optimizer, loader):" + ENGINE + "    model(1)\n") == (True, [])
    body = "def main(model, optimizer, loader, flag):" + WRAP_FALSE.replace("WRAP", "flag") + "    model(1)\n"
    assert _hooks_uses(tmp_path, body)[1] == []  # unknown: no answer
    body = "WRAP = False\n\ndef main(model, optimizer, loader):" + WRAP_FALSE + "    model(1)\n"
    assert _hooks_uses(tmp_path, body) == (False, [("model(1)", "model", "called", None)])


def test_calls_and_module_methods_of_the_first_result(tmp_path):
    body = "def main(model, optimizer, loader):" + WRAP_FALSE.replace("WRAP", "False") + """
    model.train()
    model.cleanup()
    for x, y in loader:
        nn.functional.cross_entropy(model(x), y).backward()
"""
    assert _hooks_uses(tmp_path, body)[1] == [("model.train()", "model", "`.train()`", None),
                                             ("model(x)", "model", "called", None)]


def test_uses_after_a_rebinding_or_of_an_underscore_are_not_uses(tmp_path):
    body = "def main(model, optimizer, loader, net):" + WRAP_FALSE.replace("WRAP", "False") + """
    model = net
    model.train()
"""
    assert _hooks_uses(tmp_path, body)[1] == []
    body = "def main(model, optimizer, loader):" + WRAP_FALSE.replace("WRAP", "False").replace("model, opt", "_, opt") \
        + "    model.train()\n"
    assert _hooks_uses(tmp_path, body)[1] == []


def test_a_helper_that_trains_its_parameter(tmp_path):
    body = """
def train(net, loader, optimizer):
    net.train()
    for x, y in loader:
        net(x)

def evaluate(net):
    net = net.module
    net.eval()

def main(model, optimizer, loader):""" + WRAP_FALSE.replace("WRAP", "False") + """
    evaluate(model)
    train(model, loader, optimizer)
"""
    assert _hooks_uses(tmp_path, body)[1] == [("train(model, loader, optimizer)", "model", "`.train()`", "train")]


def test_a_trainer_attribute_used_in_another_method_but_not_in_init_or_after_rebinding(tmp_path):
    body = """
class Trainer:
    def __init__(self, model, optimizer, loader):
        self.model, self.optimizer, self.loader = model, optimizer, loader
        self.model.to("cpu")

    def setup(self):
        self.model, self.optimizer, self.loader = PrivacyEngine().make_private(
            module=self.model, optimizer=self.optimizer, data_loader=self.loader, noise_multiplier=1.0,
            max_grad_norm=1.0, wrap_model=False)

    def fit(self):
        self.model.train()

    def restore(self, net):
        self.model = net
        self.model.eval()
"""
    assert _hooks_uses(tmp_path, body)[1] == [("self.model.train()", "self.model", "`.train()`", None)]

"""`dp-lint verify`'s static side: targets, settings and input inference (no torch, no user code)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from dp_lint.config.settings import Config
from dp_lint.verify.targets import VerifyUsageError, discover_targets, looks_like_target

HEADER = "import torch\nimport torch.nn as nn\nimport torch.nn.functional as F\nfrom opacus.layers import DPLSTM, DPMultiheadAttention\n"


def write(folder: Path, name: str, body: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(body))
    return path


def one(tmp_path: Path, body: str, target: str = "model.py:Net", **kwargs):
    write(tmp_path, "model.py", HEADER + textwrap.dedent(body))
    found = discover_targets(tmp_path, [target], **kwargs)
    assert len(found) == 1
    return found[0]


def inputs(tmp_path: Path, body: str, target: str = "model.py:Net") -> list[str] | None:
    found = one(tmp_path, body, target)
    assert found.problem is None, found.problem
    return found.inputs


# --------------------------------------------------------------------------- input inference


def test_linear_first_layer(tmp_path):
    assert inputs(tmp_path, """
        class Net(nn.Module):
            def __init__(self, d_in=16):
                super().__init__()
                self.fc = nn.Linear(d_in, 4)
            def forward(self, x, mask=None):
                return self.fc(F.relu(x))
    """) == ["float[B, 16]"]  # `mask` has a default: left out


def test_conv_embedding_and_recurrent_layers(tmp_path):
    assert inputs(tmp_path, """
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv2d(3, 8, 3)
                self.conv3 = nn.Conv3d(2, 8, 3)
                self.embed = nn.Embedding(50, 8)
                self.rnn = DPLSTM(12, 8, batch_first=True)
            def forward(self, image, volume, tokens, sequence):
                return self.conv(image).mean() + self.conv3(volume).mean() + self.embed(tokens).mean() + self.rnn(sequence)[0].mean()
    """) == ["float[B, 3, 16, 16]", "float[B, 2, 16, 16, 16]", "long[B, 7] < 50", "float[B, 7, 12]"]


def test_sequence_axis_follows_the_engine(tmp_path):
    write(tmp_path, "model.py", HEADER + textwrap.dedent("""
        class Net(nn.Module):
            def __init__(self, vocab=30, dim=8):
                super().__init__()
                self.embed = nn.Embedding(vocab, dim)
                self.attn = DPMultiheadAttention(dim, 1)
                self.head = nn.Linear(dim, 2)
            def forward(self, tokens):
                h = self.embed(tokens)
                return self.head(self.attn(h, h, h)[0])
    """))
    write(tmp_path, "train.py", """
        from opacus import PrivacyEngine
        from model import Net
        model = Net(vocab=40)
        model, opt, dl = PrivacyEngine().make_private(module=model, optimizer=None, data_loader=None,
                                                      noise_multiplier=1.0, max_grad_norm=1.0, batch_first=False,
                                                      loss_reduction="sum")
    """)
    (found,) = discover_targets(tmp_path)
    assert found.label == "model.py:Net"
    assert found.origin == "engine call train.py:5"
    assert found.kwargs == {"vocab": 40}
    assert found.inputs == ["long[7, B] < 40"]
    assert (found.batch_first, found.loss_reduction, found.grad_sample_mode) == (False, "sum", "hooks")


@pytest.mark.parametrize("swap", ["x.transpose(0, 1)", "x.permute(1, 0, 2)", "torch.transpose(x, 1, 0)",
                                  "F.relu(x).transpose(0, 1)"])
def test_a_transpose_before_a_sequence_first_layer_lays_the_input_out_batch_first(tmp_path, swap):
    """`x.transpose(0, 1)` -> sequence-first DPLSTM -> `.mean(0)`: the model takes batch-first data
    (measured: exact per-sample gradients under a batch-first engine); guessing the engine's layout
    for the layer once fed it [B, 7, 16] transposed and called it silent."""
    found = one(tmp_path, f"""
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.lstm = DPLSTM(16, 32)
                self.head = nn.Linear(32, 4)
            def forward(self, x):
                h = {swap}
                out, _ = self.lstm(h)
                return self.head(out.mean(0))
    """)
    assert found.problem is None, found.problem
    assert found.inputs == ["float[B, 7, 16]"]
    assert any("swaps the first two dimensions of `x`" in note for note in found.notes)


def test_a_transpose_inline_and_a_batch_first_layer(tmp_path):
    assert inputs(tmp_path, """
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.lstm = DPLSTM(16, 32, batch_first=True)
            def forward(self, x):
                return self.lstm(x.transpose(1, 0))[0].sum()
    """) == ["float[7, B, 16]"]  # the layer is fed [B, 7, 16]: the argument is time-major


def test_a_transpose_of_other_dimensions_still_stops_the_inference(tmp_path):
    found = one(tmp_path, """
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.lstm = DPLSTM(16, 32)
            def forward(self, x):
                return self.lstm(x.transpose(1, 2))[0].sum()
    """)
    assert found.inputs is None or found.problem is not None


def test_sequential_factories_and_constructor_defaults(tmp_path):
    assert inputs(tmp_path, """
        def mlp(d_in, d_out):
            return nn.Sequential(nn.Dropout(0.1), nn.Linear(d_in, d_out), nn.ReLU())

        class Net(nn.Module):
            def __init__(self, width=24):
                super().__init__()
                self.encoder = mlp(width * 2, 8)
            def forward(self, x):
                return self.encoder(x)
    """) == ["float[B, 48]"]


def test_project_submodule_loops_and_helper_methods(tmp_path):
    assert inputs(tmp_path, """
        class Block(nn.Module):
            def __init__(self, dim):
                super().__init__()
                self.norm = nn.LayerNorm(dim)
            def forward(self, h):
                return self.norm(h)

        class Net(nn.Module):
            def __init__(self, dim=12):
                super().__init__()
                self.blocks = nn.ModuleList([Block(dim) for _ in range(2)])
                self.proj = nn.Linear(6, dim)
            def branch(self, y):
                return self.proj(y)
            def forward(self, x, y):
                for block in self.blocks:
                    x = block(x)
                return x + self.branch(y)
    """) == ["float[B, 12]", "float[B, 6]"]


def test_labels_of_a_cross_entropy(tmp_path):
    assert inputs(tmp_path, """
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = nn.Linear(10, 5)
            def forward(self, x, labels):
                logits = self.fc(x)
                return F.cross_entropy(logits, labels, reduction="none")
    """) == ["float[B, 10]", "long[B] < 5"]


def test_reshape_before_the_first_layer_cannot_build_with_hint(tmp_path):
    found = one(tmp_path, """
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = nn.Linear(784, 10)
            def forward(self, x):
                return self.fc(x.view(x.size(0), -1))
    """)
    assert found.inputs is None
    assert "`x`" in found.problem and ".view(...)" in found.problem
    assert found.config_hint == (
        '[[tool.dp-lint.verify]]\nmodel = "model.py:Net"\n'
        'inputs = ["float[B, ...]"]  # one per forward() argument: x'
    )


def test_constructor_needing_arguments_cannot_build_with_hint(tmp_path):
    found = one(tmp_path, """
        class Net(nn.Module):
            def __init__(self, hidden, classes=3):
                super().__init__()
                self.fc = nn.Linear(hidden, classes)
            def forward(self, x):
                return self.fc(x)
    """)
    assert found.problem == "the constructor of `Net` needs `hidden`, and no value is configured"
    assert "kwargs = { hidden = ... }" in found.config_hint
    assert found.config_hint.startswith('[[tool.dp-lint.verify]]\nmodel = "model.py:Net"')


def test_non_literal_engine_argument_falls_back_to_default(tmp_path):
    write(tmp_path, "model.py", HEADER + textwrap.dedent("""
        class Net(nn.Module):
            def __init__(self, vocab=100, dim=8):
                super().__init__()
                self.embed = nn.Embedding(vocab, dim)
            def forward(self, tokens):
                return self.embed(tokens)
    """))
    write(tmp_path, "train.py", """
        from opacus import GradSampleModule
        from model import Net
        vocab = load()
        model = GradSampleModule(Net(vocab=len(vocab), dim=4), loss_reduction=REDUCTION)
    """)
    (found,) = discover_targets(tmp_path)
    assert found.kwargs == {"dim": 4}
    assert found.inputs == ["long[B, 7] < 100"]
    assert not found.validate  # a bare GradSampleModule does not run ModuleValidator
    assert any("vocab=len(vocab)" in note and "default" in note for note in found.notes)
    assert any("loss_reduction" in note for note in found.notes)  # UNKNOWN -> "mean", with a note
    assert found.loss_reduction == "mean"


def test_validator_fix_and_grad_sample_mode_come_from_the_engine(tmp_path):
    write(tmp_path, "model.py", HEADER + textwrap.dedent("""
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = nn.Linear(3, 2)
                self.bn = nn.BatchNorm1d(2)
            def forward(self, x):
                return self.bn(self.fc(x))
    """))
    write(tmp_path, "train.py", """
        from opacus import PrivacyEngine
        from opacus.validators import ModuleValidator
        from model import Net
        model = ModuleValidator.fix(Net())
        PrivacyEngine().make_private(module=model, grad_sample_mode="ghost")
    """)
    (found,) = discover_targets(tmp_path)
    assert found.validator_fix and found.validate
    assert found.grad_sample_mode == "ghost"
    assert found.to_request()["grad_sample_mode"] == "hooks"
    assert any("ghost" in note for note in found.notes)


def test_configuration_overrides_the_engine_and_is_validated(tmp_path):
    write(tmp_path, "model.py", HEADER + textwrap.dedent("""
        class Net(nn.Module):
            def __init__(self, hidden):
                super().__init__()
                self.fc = nn.Linear(hidden, 2)
            def forward(self, x):
                return self.fc(x)
    """))
    write(tmp_path, "train.py", """
        from opacus import PrivacyEngine
        from model import Net
        PrivacyEngine().make_private(module=Net(hidden=compute()), batch_first=False)
    """)
    config = Config(path=tmp_path / "pyproject.toml", verify_targets=(
        {"model": "model.py:Net", "kwargs": {"hidden": 6}, "loss_reduction": "sum"},
    ))
    (found,) = discover_targets(tmp_path, config=config)
    assert found.problem is None
    assert found.kwargs == {"hidden": 6}
    assert found.inputs == ["float[B, 6]"]
    assert (found.batch_first, found.loss_reduction) == (False, "sum")  # engine, then configuration
    assert found.origin == "configuration (pyproject.toml) + engine call train.py:4"

    bad = Config(path=tmp_path / "pyproject.toml", verify_targets=({"model": "model.py:Net", "inputs": ["float[16]"]},))
    with pytest.raises(VerifyUsageError, match="exactly one dimension must be B"):
        discover_targets(tmp_path, config=bad)
    bad_loss = Config(path=tmp_path / "pyproject.toml", verify_targets=({"model": "model.py:Net", "loss": "l2"},))
    with pytest.raises(VerifyUsageError, match="`loss` must be 'sum-of-squares', 'sum', 'output' or a function"):
        discover_targets(tmp_path, config=bad_loss)
    bad_mode = Config(path=tmp_path / "pyproject.toml", verify_targets=({"model": "model.py:Net", "grad_sample_mode": "fast"},))
    with pytest.raises(VerifyUsageError, match="unknown grad_sample_mode 'fast'"):
        discover_targets(tmp_path, config=bad_mode)


def test_dotted_and_factory_targets(tmp_path):
    write(tmp_path, "pkg/__init__.py", "")
    write(tmp_path, "pkg/nets.py", HEADER + textwrap.dedent("""
        class Net(nn.Module):
            def __init__(self, d=5):
                super().__init__()
                self.fc = nn.Linear(d, 2)
            def forward(self, x):
                return self.fc(x)

        def build():
            return Net(d=9)
    """))
    (found,) = discover_targets(tmp_path, ["pkg.nets:build"])
    assert found.label == "pkg.nets:build"
    assert (found.model.module, found.model.root) == ("pkg.nets", str(tmp_path))
    assert found.inputs == ["float[B, 9]"]


def test_bad_targets_are_usage_errors(tmp_path):
    write(tmp_path, "model.py", HEADER)
    with pytest.raises(VerifyUsageError, match="defines no `Missing`"):
        discover_targets(tmp_path, ["model.py:Missing"])
    with pytest.raises(VerifyUsageError, match="does not exist"):
        discover_targets(tmp_path, ["nothere.py:Net"])
    assert looks_like_target("a/b.py:Net") and looks_like_target("pkg.mod:build")
    assert not looks_like_target("src/") and not looks_like_target("C:\\models") and not looks_like_target("a.py")


def test_examples_need_no_configuration():
    examples = Path(__file__).resolve().parent.parent / "examples"
    found = {t.label: t for t in discover_targets(examples)}
    assert {label: t.inputs for label, t in found.items()} == {
        "dp_finetune/model.py:TextClassifier": ["long[B, 7] < 100"],
        "mean_teacher/model.py:MeanTeacher": ["float[B, 20]", "float[B, 20]"],
        "resnet_block/model.py:ResNet": ["float[B, 3, 16, 16]"],
        "simsiam/model.py:SimSiam": ["float[B, 32]", "float[B, 32]"],
        "text_classifier/textcls/model.py:TextClassifier": ["long[B, 7] < 1000"],
        "vision/model.py:SmallResNet": ["float[B, 3, 16, 16]"],
    }
    assert all(t.problem is None for t in found.values())


def test_moved_target_points_at_the_copy(tmp_path):
    target = one(tmp_path, """
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = nn.Linear(3, 2)
            def forward(self, x):
                return self.fc(x)
    """)
    moved = target.moved(tmp_path, tmp_path / "copy")
    assert moved.model.file == str(tmp_path / "copy" / "model.py")
    assert moved.model.root == str(tmp_path / "copy")
    assert (moved.inputs, moved.label) == (target.inputs, target.label)


# --------------------------------------------------------------------------- verdicts, output, process plumbing


def sample_verdicts():
    from dp_lint.verify.api import ModelVerdict, ParameterVerdict

    return [
        ModelVerdict("a.py:Ok", "ok", device="cpu", max_error=3e-7,
                     parameters=[ParameterVerdict("fc.weight", (2, 4), "ok", None, 3e-7)]),
        ModelVerdict("a.py:Crash", "crash", "ValueError: Per sample gradient is not initialized", "cpu",
                     [ParameterVerdict("enc.weight", (2, 4), "missing", "no per-sample gradient")]),
        ModelVerdict("a.py:Silent", "silent", "1 parameter wrong", "cpu",
                     [ParameterVerdict("attn.w", (4, 4), "mismatch", "differs by up to 0.5", 0.5)]),
        ModelVerdict("a.py:Unbuilt", "cannot-build", "the constructor needs `hidden`",
                     config_hint='[[tool.dp-lint.verify]]\nmodel = "a.py:Unbuilt"\nkwargs = { hidden = ... }'),
        ModelVerdict("a.py:Hung", "error", "timed out after 2 s (its process group was killed)", "cpu"),
    ]


def test_json_report_shape():
    import json

    from dp_lint.verify.report import render

    data = json.loads(render(sample_verdicts(), "json"))
    assert [d["verdict"] for d in data] == ["ok", "crash", "silent", "cannot-build", "error"]
    for item in data:
        assert {"target", "verdict", "error", "device", "parameters"} <= item.keys()
        for parameter in item["parameters"]:
            assert {"name", "shape", "status", "error"} <= parameter.keys()
    assert data[2]["parameters"][0] == {"name": "attn.w", "shape": [4, 4], "status": "mismatch",
                                        "error": "differs by up to 0.5", "max_abs_error": 0.5}


def test_concise_and_table_reports():
    from dp_lint.verify.report import render

    concise = render(sample_verdicts(), "concise").splitlines()
    assert concise[0] == "a.py:Ok: ok: max error 3e-07"
    assert concise[1] == "a.py:Crash: crash: ValueError: Per sample gradient is not initialized"
    assert concise[-1] == "Verified 5 models: 1 crash, 1 silent, 1 cannot-build, 1 error, 1 ok."
    table = render(sample_verdicts(), "table")
    assert "a.py:Silent  silent" in table and "differs by up to 0.5" in table
    assert "kwargs = { hidden = ... }" in table


def test_exit_status_precedence():
    from dp_lint.cli.verify import exit_status

    ok, crash, silent, unbuilt, hung = sample_verdicts()
    assert exit_status([ok]) == 0
    assert exit_status([ok, unbuilt]) == 3 and exit_status([hung]) == 3
    assert exit_status([ok, silent, unbuilt]) == 1 and exit_status([crash]) == 1


def test_verification_text_for_findings():
    from dp_lint.verify.check_findings import verification_text

    ok, crash, silent, unbuilt, hung = sample_verdicts()
    assert verification_text(crash) == "confirmed: crash"
    assert verification_text(silent) == "confirmed: silent"
    assert verification_text(ok) == "not confirmed: ok"
    assert verification_text(unbuilt) == "cannot-build: the constructor needs `hidden`"
    assert verification_text(hung).startswith("error: timed out")


def test_output_capture_keeps_head_and_tail():
    from dp_lint.verify import launcher as runner

    capture = runner._Capture()
    capture.switch(1)
    capture.feed(b"start\n")
    for _ in range(10_000):
        capture.feed(b"noise " * 20)
    capture.feed(b"\nthe end\n")
    text = capture.text(1)
    assert text.startswith("start\n") and text.endswith("the end\n")
    assert "bytes of output left out" in text
    assert len(text) < runner.HEAD_BYTES + runner.TAIL_BYTES + 100
    assert capture.text(2) is None


def test_death_reasons():
    import signal

    from dp_lint.verify.launcher import _death_reason

    assert "SIGSEGV (segmentation fault)" in _death_reason(-signal.SIGSEGV)
    assert "exited with status 3" in _death_reason(3)


def test_command_formats_match_the_report():
    from dp_lint.cli import verify as command
    from dp_lint.verify import report

    assert command.FORMATS == report.FORMATS


def test_cli_lists_verify_without_importing_the_runtime():
    import subprocess
    import sys

    script = ("import sys\nfrom dp_lint.cli import main\nimport dp_lint.cli.verify\n"
              "print(sorted(m for m in sys.modules if m.startswith('dp_lint.verify')), 'torch' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    # The verify command is listed, but neither the verify package nor torch is loaded.
    assert done.stdout.strip() == "[] False", done.stdout + done.stderr


def test_a_model_in_an_unguarded_training_script_is_not_imported(tmp_path):
    write(tmp_path, "train.py", HEADER + textwrap.dedent("""
        from opacus import PrivacyEngine

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = nn.Linear(3, 2)
            def forward(self, x):
                return self.fc(x)

        model = Net()
        model, optimizer, loader = PrivacyEngine().make_private(module=model, optimizer=None, data_loader=None)
    """))
    (found,) = discover_targets(tmp_path)
    assert found.problem.startswith("importing train.py would run its training code (make_private at train.py:16)")
    assert found.config_hint is None  # no configuration helps: the script must change
    guarded = (tmp_path / "train.py").read_text().replace(
        "model = Net()\nmodel, optimizer",
        "if __name__ == \"__main__\":\n    model = Net()\n    model, optimizer",
    )
    (tmp_path / "train.py").write_text(guarded)
    (found,) = discover_targets(tmp_path)
    assert found.problem is None and found.inputs == ["float[B, 3]"]


def test_engine_calls_read_loss_reduction_and_grad_sample_mode(tmp_path):
    from dp_lint.analysis.layers import UNKNOWN
    from dp_lint.verify.targets import load_project

    write(tmp_path, "model.py", HEADER + textwrap.dedent("""
        from opacus import GradSampleModule, PrivacyEngine
        from opacus.grad_sample import GradSampleModuleExpandedWeights

        class Net(nn.Module):
            def forward(self, x):
                return x

        REDUCTION = "sum"

        def train(mode):
            a = GradSampleModule(Net(), force_functorch=True)
            b = GradSampleModuleExpandedWeights(Net(), loss_reduction=REDUCTION)
            c = PrivacyEngine().make_private(module=Net(), grad_sample_mode=mode)
            d = PrivacyEngine().make_private(module=Net())
    """))
    engines = sorted(load_project([tmp_path]).engine_calls, key=lambda e: e.file.span(e.node)[0].row)
    assert [(e.kind, e.loss_reduction, e.grad_sample_mode) for e in engines] == [
        ("GradSampleModule", "mean", "functorch"),
        ("GradSampleModuleExpandedWeights", "sum", "ew"),
        ("make_private", "mean", UNKNOWN),
        ("make_private", "mean", "hooks"),
    ]


def test_entry_points_are_scripts_that_reach_an_engine_call(tmp_path):
    from dp_lint.verify.targets import discover_entry_points

    write(tmp_path, "model.py", HEADER + "class Net(nn.Module):\n    def forward(self, x):\n        return x\n")
    write(tmp_path, "trainer.py", HEADER + textwrap.dedent("""
        from opacus import PrivacyEngine
        from model import Net

        def fit(loader):
            model = Net()
            return PrivacyEngine().make_private(module=model, optimizer=None, data_loader=loader,
                                                noise_multiplier=1.0, max_grad_norm=1.0)
    """))
    write(tmp_path, "train.py", "import trainer\n\nif __name__ == '__main__':\n    trainer.fit(None)\n")
    write(tmp_path, "direct.py", HEADER + textwrap.dedent("""
        from opacus import PrivacyEngine
        from model import Net

        def main():
            PrivacyEngine().make_private(module=Net(), optimizer=None, data_loader=None,
                                         noise_multiplier=1.0, max_grad_norm=1.0)

        if "__main__" == __name__:
            main()
    """))
    write(tmp_path, "tool.py", "if __name__ == '__main__':\n    print('not training')\n")

    found = discover_entry_points(tmp_path)

    assert [(e.command, e.engine_files) for e in found] == [
        (("python", "direct.py"), ("direct.py",)),
        (("python", "train.py"), ("trainer.py",)),
    ]


def test_zero_argument_functions_reach_engine_calls_in_methods(tmp_path):
    """A function with no required parameter is an entry point when it reaches an engine call
    through project methods: `Trainer().fit(...)`, an instance held in a name, `self.fit()`, a
    constructor that wraps the model, a method that only one project class defines called on a
    receiver of unknown class. A function that calls none of them is not one."""
    from dp_lint.verify.targets import discover_entry_points

    engine_call = ("PrivacyEngine().make_private(module=model, optimizer=None, data_loader=None, "
                   "noise_multiplier=1.0, max_grad_norm=1.0)")
    write(tmp_path, "inline.py", HEADER + textwrap.dedent(f"""
        from opacus import PrivacyEngine

        class Trainer:
            def fit(self, model):
                return {engine_call}

        def unrelated():
            return 1

        def train(epochs=1):
            return Trainer().fit(nn.Linear(2, 2))
    """))
    write(tmp_path, "held.py", HEADER + textwrap.dedent("""
        from opacus import PrivacyEngine

        class Runner:
            def __init__(self, model):
                self.model = model

            def _private(self):
                return PrivacyEngine().make_private(module=self.model, optimizer=None, data_loader=None,
                                                    noise_multiplier=1.0, max_grad_norm=1.0)

            def run(self):
                return self._private()

        def main():
            runner = Runner(nn.Linear(2, 2))
            runner.run()
    """))
    write(tmp_path, "built.py", HEADER + textwrap.dedent(f"""
        from opacus import PrivacyEngine

        class Wrapped:
            def __init__(self, model):
                self.parts = {engine_call}

        def experiment():
            Wrapped(nn.Linear(2, 2))
    """))
    write(tmp_path, "rounds.py", HEADER + textwrap.dedent(f"""
        from opacus import PrivacyEngine

        class Client:
            def local_update(self):
                model = nn.Linear(2, 2)
                return {engine_call}

        def simulate(rounds=2):
            clients = [Client() for _ in range(2)]
            for _ in range(rounds):
                updates = [client.local_update() for client in clients]  # receiver of unknown class
    """))
    write(tmp_path, "unreached.py", HEADER + textwrap.dedent(f"""
        from opacus import PrivacyEngine

        class Trainer:
            def fit(self, model):
                return {engine_call}

        def main():
            return Trainer()  # built, never fitted
    """))

    found = discover_entry_points(tmp_path)

    assert [e.command for e in found] == [
        ("built.py:experiment",), ("held.py:main",), ("inline.py:train",), ("rounds.py:simulate",),
    ]


# -- "no model to verify" on a project written for Opacus 0.x ----------------------------------

LEGACY_SCRIPT = """\
import torch
import torch.nn as nn
from opacus import PrivacyEngine

model = nn.Linear(4, 2)
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
engine = PrivacyEngine(model, sample_rate=0.01, noise_multiplier=1.0, max_grad_norm=1.0)
engine.attach(optimizer)
"""


def test_the_legacy_api_hint_names_the_first_use_and_what_opacus_1_raises(tmp_path, monkeypatch):
    from dp_lint.verify.targets import legacy_api_hint, load_project

    (tmp_path / "train.py").write_text(LEGACY_SCRIPT)
    monkeypatch.chdir(tmp_path)
    hint = legacy_api_hint(load_project([tmp_path]))
    assert hint is not None
    assert "Opacus 0.x API (`PrivacyEngine` at train.py:7)" in hint
    assert "TypeError" in hint and "DPL212" in hint and "make_private" in hint
    (tmp_path / "train.py").write_text("import torch\n")
    assert legacy_api_hint(load_project([tmp_path])) is None


def test_verify_without_a_model_says_the_project_uses_the_0x_api(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from dp_lint.cli import main

    (tmp_path / "train.py").write_text(LEGACY_SCRIPT)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["verify"])
    assert result.exit_code == 2, result.output
    assert "no model to verify" in result.output and "Opacus 0.x API" in result.output
    assert "Traceback" not in result.output

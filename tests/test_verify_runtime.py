"""`dp-lint verify` and `dp-lint check --verify` under real Opacus (CPU).

Each test module-level fixture runs one `dp-lint verify` over many targets: one child process
serves them in turn, so torch and Opacus are imported once per run.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner
from runtime_cases import case_params, collect_cases, installed_opacus_version, require_opacus

require_opacus()

from dp_lint.cli import main  # noqa: E402
from dp_lint.config.opacus_versions import in_range  # noqa: E402
from dp_lint.verify import compare_ordinary_many, discover_targets, verify_project, verify_targets  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "examples"
OPACUS = installed_opacus_version()
CASES = [case for case in collect_cases() if not case.skip_reason(OPACUS)]  # those for the installed release
JSON_KEYS = {"target", "verdict", "error", "device", "opacus", "parameters"}
PARAMETER_KEYS = {"name", "shape", "status", "error"}


def run_cli(args, cwd: Path | None = None):
    old = os.getcwd()
    try:
        if cwd is not None:
            os.chdir(cwd)
        return CliRunner().invoke(main, args, catch_exceptions=False)
    finally:
        os.chdir(old)


def toml(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {toml(v)}" for k, v in value.items()) + " }"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(toml(v) for v in value) + "]"  # a factory's dict argument: inline tables
    return json.dumps(value)


# --------------------------------------------------------------------------- the catalogue


def case_table(case) -> list[str]:
    """A catalogue CASE dict as a [[tool.dp-lint.verify]] table (the harness's defaults spelled out)."""
    spec = case.spec
    lines = [
        "[[tool.dp-lint.verify]]",
        f"model = {toml(str(case.model_file) + ':' + spec['model'])}",
        f"inputs = {toml(spec['inputs'])}",
        f"batch_first = {toml(spec.get('batch_first', True))}",
        f"loss_reduction = {toml(spec.get('loss_reduction', 'mean'))}",
    ]
    for key in ("args", "kwargs"):
        if key in spec:
            lines.append(f"{key} = {toml(spec[key])}")
    return lines + [""]


@pytest.fixture(scope="module")
def catalogue_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("catalogue")
    config = folder / "pyproject.toml"
    config.write_text("[tool.dp-lint]\n\n" + "\n".join(line for case in CASES for line in case_table(case)))
    targets = [f"{case.model_file}:{case.spec['model']}" for case in CASES]
    result = run_cli(["verify", "--output-format", "json", "--config", str(config), *targets], cwd=folder)
    verdicts = json.loads(result.stdout)
    assert len(verdicts) == len(CASES), result.output
    return result, dict(zip([case.id for case in CASES], verdicts))


@pytest.mark.parametrize("case", case_params(CASES))
def test_catalogue_case_verdict_agrees_with_the_rule(case, catalogue_run):
    _, verdicts = catalogue_run
    verdict = verdicts[case.id]
    expected = case.expectation(OPACUS)
    if case.kind == "flag":
        assert verdict["verdict"] in ("crash", "silent"), verdict
    else:
        assert verdict["verdict"] == "ok", verdict
    assert verdict["verdict"] == expected["runtime"], verdict
    assert verdict["opacus"] == OPACUS, verdict
    if "error" in expected:
        assert expected["error"] in (verdict["error"] or ""), verdict


def test_catalogue_run_exit_status_and_json_shape(catalogue_run):
    result, verdicts = catalogue_run
    assert result.exit_code == 1  # some crash/silent, every model verified
    for verdict in verdicts.values():
        assert JSON_KEYS <= verdict.keys()
        assert verdict["device"] == "cpu"
        for parameter in verdict["parameters"]:
            assert PARAMETER_KEYS <= parameter.keys()
            assert isinstance(parameter["shape"], list)


# --------------------------------------------------------------------------- the examples


@pytest.fixture(scope="module")
def examples_run():
    result = run_cli(["verify", "--output-format", "json", "examples"], cwd=REPO)
    return result, {v["target"]: v for v in json.loads(result.stdout)}


def test_examples_verdicts_agree_with_findings_without_configuration(examples_run):
    result, verdicts = examples_run
    assert result.exit_code == 1
    # simsiam/train.py and resnet_block/train.py are scripts (`if __name__ == "__main__":`) that
    # reach make_private: their models are verified by capture; the other training scripts run at
    # import, so their models are built from their constructors.
    assert set(verdicts) == {
        "run: python examples/dp_finetune/train.py",
        "examples/mean_teacher/model.py:MeanTeacher",
        "run: python examples/resnet_block/train.py",
        "run: python examples/simsiam/train.py",
        "examples/text_classifier/textcls/model.py:TextClassifier",
        "examples/vision/model.py:SmallResNet",
    }
    # The fine-tuning script's model is fine; its violations are in the loop (observe mode: below).
    finetune = verdicts["run: python examples/dp_finetune/train.py"]
    assert (finetune["built_by"], finetune["verdict"]) == ("capture", "ok")
    assert any("--steps" in note for note in finetune["notes"])
    simsiam = verdicts["run: python examples/simsiam/train.py"]
    assert simsiam["built_by"] == "capture"
    assert simsiam["verdict"] == "crash"
    assert "Per sample gradient is not initialized" in simsiam["error"]
    assert {p["name"] for p in simsiam["parameters"] if p["status"] == "missing"} == {
        "encoder.0.weight", "encoder.0.bias", "encoder.2.weight", "encoder.2.bias"
    }
    teacher = verdicts["examples/mean_teacher/model.py:MeanTeacher"]
    assert teacher["verdict"] == "crash"
    assert all(p["status"] == "missing" for p in teacher["parameters"] if p["name"].startswith("teacher."))
    assert verdicts["examples/text_classifier/textcls/model.py:TextClassifier"]["verdict"] in ("crash", "silent")
    resnet = verdicts["run: python examples/resnet_block/train.py"]
    assert resnet["verdict"] == "crash" and "is a view and is being modified inplace" in resnet["error"]
    vision = verdicts["examples/vision/model.py:SmallResNet"]
    assert vision["verdict"] == "crash" and "UnsupportedModuleError" in vision["error"]
    assert verdicts["examples/text_classifier/textcls/model.py:TextClassifier"]["inputs"] == ["long[B, 7] < 1000"]


def test_observe_mode_measures_the_fine_tuning_scripts_violations():
    result = run_cli(["verify", "--run", "python dp_finetune/train.py", "--steps", "3", "--output-format", "json"],
                     cwd=EXAMPLES)
    (verdict,) = json.loads(result.stdout)
    assert (result.exit_code, verdict["verdict"]) == (1, "silent"), verdict
    assert {i["name"] for i in verdict["invariants"] if not i["holds"]} == {"private-loader", "ghost-clipping"}


def test_check_verify_attaches_the_runtime_verdict():
    full = run_cli(["check", "examples", "--verify", "--output-format", "full"], cwd=REPO)
    assert full.exit_code == 1
    # Every finding of the examples but the two DPL002s: the text classifier crashes on its
    # nn.LSTM (DPL102), a failure that is not theirs.
    assert full.stdout.count("[confirmed: crash]") == 7
    assert full.stdout.count("[the model fails (for another reason: crash: UnsupportedModuleError") == 2
    assert "= verify: examples/simsiam/model.py:SimSiam: crash (ValueError: Per sample gradient" in full.stdout
    plain = run_cli(["check", "examples/simsiam", "--output-format", "json"], cwd=REPO)
    assert "verification" not in json.loads(plain.stdout)[0]


def test_check_verify_maps_class_and_layer_findings_to_their_model(tmp_path):
    (tmp_path / "model.py").write_text(textwrap.dedent("""
        import torch.nn as nn

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = nn.Linear(4, 3)
                self.unused = nn.Linear(4, 3)  # never called: DPL003

            def forward(self, x):
                return self.fc(x)

        class Other(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = nn.Linear(4, 3)
                self.bn = nn.BatchNorm1d(3)

            def forward(self, x):
                return self.bn(self.fc(x))
    """))
    result = run_cli(["check", ".", "--verify", "--output-format", "json"], cwd=tmp_path)
    assert result.exit_code == 1
    found = {(f["code"], f["location"]["row"]): f["verification"] for f in json.loads(result.stdout)}
    assert found[("DPL003", 8)] == "confirmed: crash"
    assert found[("DPL101", 17)] == "confirmed: crash"


# --------------------------------------------------------------------------- isolation


MODELS = '''
import ctypes
import os
import sys
import time

import torch
import torch.nn as nn


class Base(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 2)


class Hang(Base):
    def forward(self, x):
        while True:  # forever: only the time limit ends it, however fast the machine
            time.sleep(0.05)


class Exits(Base):
    def forward(self, x):
        os._exit(3)


class Segfault(Base):
    def forward(self, x):
        ctypes.string_at(0)


class Noisy(Base):
    def __init__(self):
        super().__init__()
        sys.stdout.write("x" * 5_000_000 + "\\n")
        print("constructed")

    def forward(self, x):
        print("noise from forward", file=sys.stderr)
        return self.fc(x)


class SysExit(Base):
    def forward(self, x):
        sys.exit(4)


class Fine(Base):
    def forward(self, x):
        return self.fc(x)


class NeedsArgs(nn.Module):
    def __init__(self, hidden):
        super().__init__()
        self.fc = nn.Linear(4, hidden)

    def forward(self, x):
        return self.fc(x)


class WrongInputs(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 2)

    def forward(self, x):
        return self.fc(x.reshape(x.shape[0], 2, 4).sum(1).repeat(1, 3))


class BrokenImport(nn.Module):
    pass


class PerSampleLoss(Base):
    def forward(self, x):
        return self.fc(x).pow(2).sum(-1)  # one loss per sample, summed by `loss = "sum"`


class CustomLoss(Base):
    def forward(self, x):
        return self.fc(x)


class Dropouts(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 4)
        self.drop = nn.Dropout(0.5)
        self.out = nn.Linear(4, 2)

    def forward(self, x):
        h = torch.nn.functional.dropout(self.drop(self.fc(x)), 0.2, training=self.training)
        return self.out(h)


def first_output(output):
    return output[:, 0].sum() / output.shape[0]
'''

# Every model here finishes by itself (a verdict, an exit, a crash): the run gets a time limit
# no machine reaches, so no verdict depends on the machine's speed. The hang has its own run.
ISOLATION_CONFIG = """
[tool.dp-lint]

[[tool.dp-lint.verify]]
model = "models.py:Exits"
inputs = ["float[B, 4]"]

[[tool.dp-lint.verify]]
model = "models.py:Segfault"
inputs = ["float[B, 4]"]

[[tool.dp-lint.verify]]
model = "models.py:Noisy"

[[tool.dp-lint.verify]]
model = "models.py:SysExit"
inputs = ["float[B, 4]"]

[[tool.dp-lint.verify]]
model = "models.py:Fine"

[[tool.dp-lint.verify]]
model = "models.py:NeedsArgs"

[[tool.dp-lint.verify]]
model = "models.py:WrongInputs"
inputs = ["float[B, 8]"]

[[tool.dp-lint.verify]]
model = "broken.py:BrokenImport"
inputs = ["float[B, 8]"]

[[tool.dp-lint.verify]]
model = "models.py:Dropouts"

[[tool.dp-lint.verify]]
model = "models.py:PerSampleLoss"
loss = "sum"

[[tool.dp-lint.verify]]
model = "models.py:CustomLoss"
loss = "models.py:first_output"
loss_reduction = "mean"
"""


GENEROUS_TIMEOUT = "600"  # seconds per model: never reached by a model that finishes
# The hang run's limit: the hang sleeps forever, so it is killed whatever the limit; the model
# after it must finish within the limit in the fresh process, which takes a fraction of this.
HANG_TIMEOUT = "30"


@pytest.fixture(scope="module")
def isolation_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("isolation")
    (folder / "models.py").write_text(MODELS)
    (folder / "broken.py").write_text("import torch.nn as nn\nraise RuntimeError('no GPU here')\nclass BrokenImport(nn.Module):\n    pass\n")
    (folder / "pyproject.toml").write_text(ISOLATION_CONFIG)
    result = run_cli(["verify", "--timeout", GENEROUS_TIMEOUT, "--output-format", "json"], cwd=folder)
    return result, {v["target"]: v for v in json.loads(result.stdout)}, folder


@pytest.fixture(scope="module")
def hang_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("hang")
    (folder / "models.py").write_text(MODELS)
    (folder / "pyproject.toml").write_text(
        '[tool.dp-lint]\n\n[[tool.dp-lint.verify]]\nmodel = "models.py:Hang"\ninputs = ["float[B, 4]"]\n'
    )
    result = run_cli(["verify", "--timeout", HANG_TIMEOUT, "--output-format", "json", "models.py:Hang",
                      "models.py:Fine"], cwd=folder)
    return result, {v["target"]: v for v in json.loads(result.stdout)}


@pytest.mark.slow
def test_hang_is_killed_at_the_time_limit(hang_run):
    _, verdicts = hang_run
    hang = verdicts["models.py:Hang"]
    assert hang["verdict"] == "error"
    assert hang["error"] == f"timed out after {HANG_TIMEOUT} s (its process group was killed)"
    assert verdicts["models.py:Fine"]["verdict"] == "ok"  # a fresh process takes over after the hang


@pytest.mark.slow
def test_os_exit_and_segfault_give_a_verdict(isolation_run):
    _, verdicts, _ = isolation_run
    assert verdicts["models.py:Exits"]["verdict"] == "error"
    assert "exited with status 3" in verdicts["models.py:Exits"]["error"]
    assert verdicts["models.py:Segfault"]["verdict"] == "error"
    assert "SIGSEGV" in verdicts["models.py:Segfault"]["error"]
    assert "SystemExit: 4" in verdicts["models.py:SysExit"]["error"]


@pytest.mark.slow
def test_huge_output_is_truncated_and_the_run_goes_on(isolation_run):
    result, verdicts, _ = isolation_run
    noisy = verdicts["models.py:Noisy"]
    assert noisy["verdict"] == "ok"
    assert len(noisy["output"]) < 20_000
    assert "bytes of output left out" in noisy["output"] and "noise from forward" in noisy["output"]
    assert verdicts["models.py:Fine"]["verdict"] == "ok"  # after an exit and a segfault
    assert len(result.stdout) < 200_000  # the 5 MB printed by the model did not come through


def test_dropout_is_switched_off(isolation_run):
    _, verdicts, _ = isolation_run
    dropouts = verdicts["models.py:Dropouts"]
    assert dropouts["verdict"] == "ok", dropouts
    assert any(note.startswith("dropout was switched off") for note in dropouts["notes"])
    assert not any(note.startswith("dropout") for note in verdicts["models.py:Fine"]["notes"])


def test_configured_losses(isolation_run):
    _, verdicts, _ = isolation_run
    assert verdicts["models.py:PerSampleLoss"]["verdict"] == "ok"
    assert verdicts["models.py:CustomLoss"]["verdict"] == "ok"
    assert verdicts["models.py:CustomLoss"]["inputs"] == ["float[B, 4]"]


def test_cannot_build_says_why_and_how_to_configure(isolation_run):
    result, verdicts, _ = isolation_run
    needs = verdicts["models.py:NeedsArgs"]
    assert needs["verdict"] == "cannot-build"
    assert needs["error"] == "the constructor of `NeedsArgs` needs `hidden`, and no value is configured"
    assert needs["config_hint"].splitlines()[:3] == [
        "[[tool.dp-lint.verify]]", 'model = "models.py:NeedsArgs"', "kwargs = { hidden = ... }"
    ]
    wrong = verdicts["models.py:WrongInputs"]
    assert wrong["verdict"] == "cannot-build"
    assert wrong["error"].startswith("the model fails without Opacus: RuntimeError")
    assert "models.py:" in wrong["error"]  # the user's line
    assert "the shapes forward() really takes" in wrong["config_hint"]
    broken = verdicts["broken.py:BrokenImport"]
    assert broken["verdict"] == "cannot-build"
    assert broken["error"].startswith("importing") and "RuntimeError: no GPU here" in broken["error"]
    assert "Traceback" not in result.stdout
    assert result.exit_code == 3  # nothing failed under Opacus, but not everything was verified


def test_cannot_build_table_shows_the_configuration_lines(isolation_run):
    _, _, folder = isolation_run
    result = run_cli(["verify", "models.py:NeedsArgs"], cwd=folder)
    assert result.exit_code == 3
    assert "cannot-build" in result.stdout
    assert "[[tool.dp-lint.verify]]" in result.stdout and "kwargs = { hidden = ... }" in result.stdout
    assert "Traceback" not in result.output


def test_usage_errors_exit_2(isolation_run, tmp_path):
    _, _, folder = isolation_run
    assert run_cli(["verify", "models.py:Nope"], cwd=folder).exit_code == 2
    assert run_cli(["verify", "nothere/"], cwd=folder).exit_code == 2
    empty = run_cli(["verify"], cwd=tmp_path)
    assert empty.exit_code == 2 and "no model to verify" in empty.output


def test_cuda_without_cuda_is_a_usage_error(isolation_run):
    import torch

    if torch.cuda.is_available():
        pytest.skip("a GPU is available")
    _, _, folder = isolation_run
    result = run_cli(["verify", "--device", "cuda", "models.py:Fine", "--output-format", "json"], cwd=folder)
    assert result.exit_code == 2
    assert "CUDA is not available" in result.output


@pytest.mark.slow
def test_parent_imports_neither_torch_nor_user_code(isolation_run):
    _, _, folder = isolation_run
    script = (
        "import sys\nfrom dp_lint.cli import main\n"
        "try:\n    main(['verify', 'models.py:Fine', '--output-format', 'concise', '--fresh-process'])\n"
        "except SystemExit as e:\n    code = e.code\n"
        "print('EXIT', code, 'torch' in sys.modules, 'opacus' in sys.modules, 'models' in sys.modules)\n"
    )
    # A cap for a hung run, not a speed test: the child alone may take STARTUP_TIMEOUT (120 s) to start.
    done = subprocess.run([sys.executable, "-c", script], cwd=folder, capture_output=True, text=True, timeout=600)
    assert "models.py:Fine: ok" in done.stdout, done.stdout + done.stderr
    assert done.stdout.strip().endswith("EXIT 0 False False False")


# --------------------------------------------------------------------------- the API for fix --verify


@pytest.mark.slow
def test_fixed_copy_before_after_and_ordinary_comparison(tmp_path):
    def copy_with(name: str, *replacements) -> Path:
        folder = tmp_path / name
        shutil.copytree(EXAMPLES / "simsiam", folder)
        text = (folder / "model.py").read_text()
        for old, new in replacements:
            assert old in text
            text = text.replace(old, new)
        (folder / "model.py").write_text(text)
        return folder

    no_grad = ("        z2 = self.encoder(x2).detach()  # stop-gradient on the target branch\n",
               "        with torch.no_grad():\n            z2 = self.encoder(x2)\n")
    fixed = copy_with("fixed", no_grad)
    scaled = copy_with("scaled", no_grad, ("return -F.cosine_similarity", "return -2 * F.cosine_similarity"))
    no_bias = copy_with("no_bias", no_grad, ("nn.Linear(dim // 2, dim)", "nn.Linear(dim // 2, dim, bias=False)"))

    (before,) = discover_targets(EXAMPLES / "simsiam", ["model.py:SimSiam"])
    after = before.moved(EXAMPLES / "simsiam", fixed)
    old, new = verify_targets([before, after])
    assert old.verdict == "crash" and old.summary().startswith("crash (ValueError: Per sample gradient")
    assert new.verdict == "ok" and new.summary().startswith("ok (max error")

    same, changed, different = compare_ordinary_many(
        [(before, after), (before, before.moved(EXAMPLES / "simsiam", scaled)),
         (before, before.moved(EXAMPLES / "simsiam", no_bias))]
    )
    assert same.equal and same.summary() == "ordinary outputs and gradients unchanged"
    assert not changed.equal and changed.summary().startswith("ordinary outputs differ")
    assert not different.equal and "predictor.2.bias" in different.error


@pytest.mark.slow
def test_verify_project_on_a_copy(tmp_path):
    copy = tmp_path / "project"
    shutil.copytree(EXAMPLES / "mean_teacher", copy)
    model = copy / "model.py"
    model.write_text(model.read_text().replace(
        "self.teacher = copy.deepcopy(self.student)",
        "self.teacher = copy.deepcopy(self.student).requires_grad_(False)",
    ))
    (verdict,) = verify_project(copy)
    assert (verdict.target, verdict.verdict) == ("model.py:MeanTeacher", "ok")
    assert {p.status for p in verdict.parameters} == {"ok", "frozen"}


def test_check_verify_never_confirms_a_finding_with_a_run_on_a_release_it_does_not_hold_for(tmp_path):
    """The pre-1.5 crash of DPMultiheadAttention(batch_first=True), configured as opacus 1.4.1, is
    not confirmed (nor refuted) by a run on the installed release when that release is >= 1.5."""
    (tmp_path / "model.py").write_text(textwrap.dedent("""
        import torch.nn as nn
        from opacus.layers import DPMultiheadAttention

        class Classifier(nn.Module):
            def __init__(self):
                super().__init__()
                self.embed = nn.Embedding(50, 16)
                self.attn = DPMultiheadAttention(16, 1, batch_first=True)
                self.head = nn.Linear(16, 2)

            def forward(self, tokens):
                h = self.embed(tokens)
                h, _ = self.attn(h, h, h)
                return self.head(h.mean(dim=1))
    """).lstrip())
    (tmp_path / "pyproject.toml").write_text(textwrap.dedent("""
        [tool.dp-lint]
        opacus-version = "1.4.1"

        [[tool.dp-lint.verify]]
        model = "model.py:Classifier"
        inputs = ["long[B, 7] < 50"]
    """).lstrip())
    result = run_cli(["check", ".", "--verify", "--output-format", "json"], cwd=tmp_path)
    findings = json.loads(result.stdout)
    assert [f["code"] for f in findings] == ["DPL004"], result.output
    verification = findings[0]["verification"]
    if in_range(OPACUS, ">=1.5"):
        assert verification.startswith(f"not verified: the run used opacus {OPACUS}"), verification
        assert "holds for opacus <1.5" in verification
    else:
        assert verification == "confirmed: crash", verification
    verify = run_cli(["verify", "--output-format", "json"], cwd=tmp_path)
    assert json.loads(verify.stdout)[0]["opacus"] == OPACUS
    table = run_cli(["verify"], cwd=tmp_path)
    assert f"opacus {OPACUS}" in table.stdout


def test_a_time_major_lstm_between_transposes_is_verified_ok(tmp_path):
    """Batch-first data, `x.transpose(0, 1)` into a sequence-first DPLSTM, `.mean(0)` after: the
    per-sample gradients are exact under a batch-first engine (measured on opacus 1.6.0). The
    inferred inputs follow the transpose, so the verdict is `ok`, not a `silent` from a guess."""
    (tmp_path / "model.py").write_text(textwrap.dedent("""
        from torch import nn
        from opacus.layers import DPLSTM


        class TimeMajor(nn.Module):
            def __init__(self):
                super().__init__()
                self.lstm = DPLSTM(16, 32)
                self.head = nn.Linear(32, 4)

            def forward(self, x):
                out, _ = self.lstm(x.transpose(0, 1))
                return self.head(out.mean(0))
    """), encoding="utf-8")
    result = run_cli(["verify", "model.py:TimeMajor", "--output-format", "json"], cwd=tmp_path)
    (verdict,) = json.loads(result.stdout)
    assert verdict["inputs"] == ["float[B, 7, 16]"]
    assert verdict["verdict"] == "ok", verdict

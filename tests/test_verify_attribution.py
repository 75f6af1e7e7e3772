"""`check --verify` confirms a finding only with a failure that is its own (issue 14, item 5)."""

from pathlib import Path

import pytest

from dp_lint.core.findings import Finding, Location
from dp_lint.verify.api import ModelVerdict, ParameterVerdict
from dp_lint.verify.check_findings import attributable

MISSING = "ValueError: Per sample gradient is not initialized. Not updated in backward pass?"
LSTM_ERROR = ("UnsupportedModuleError: [ShouldReplaceModuleError('We do not support nn.LSTM because its "
              "implementation uses special modules.')]")
BN_ERROR = "UnsupportedModuleError: [ShouldReplaceModuleError(\"BatchNorm cannot support training with DP\")]"
INPLACE = "RuntimeError: Output 0 of BackwardHookFunction is a view and is being modified inplace. This view"


def finding(code, message, help_text=""):
    return Finding(code=code, name="x", message=message, help=help_text, path=Path("m.py"),
                   location=Location(1, 1), end_location=Location(1, 2))


def verdict(kind, error=None, wrong=(), status="missing"):
    return ModelVerdict(target="m.py:M", verdict=kind, error=error,
                        parameters=[ParameterVerdict(n, (1,), status) for n in wrong]
                        + [ParameterVerdict("fc.weight", (1,), "ok")])


DPL003 = finding("DPL003", "`self.teacher` (a copy of self.student) has trainable parameters but never gets a "
                 "gradient: it is only called under torch.no_grad().",
                 "Its parameters get no per-sample gradient and optimizer.step() raises "
                 "`ValueError: Per sample gradient is not initialized`. Freeze it.")
DPL101 = finding("DPL101", "`BatchNorm2d` at `SmallResNet.stem[1]` (wrapped by `make_private` at t.py:10): "
                 "make_private raises UnsupportedModuleError because it normalises with batch statistics.")
DPL102 = finding("DPL102", "`nn.LSTM` at `TextClassifier.rnn` (wrapped by `make_private` at t.py:12): "
                 "make_private raises UnsupportedModuleError.")
DPL002 = finding("DPL002", "`LSTM` at `TextClassifier.rnn` has batch_first=False, but the engine call "
                 "`make_private(batch_first=True)` at t.py:12: the layer mixes samples across the batch.")
DPL002_ATTN = finding("DPL002", "`DPMultiheadAttention` at `TextClassifier.blocks[0].attn` has batch_first=False, "
                      "but the engine call at t.py:12 is batch-first.")
DPL104 = finding("DPL104", "`self.relu` (`nn.ReLU(inplace=True)`) modifies the output of `self.gn1` in place: "
                 "the first forward raises `RuntimeError: Output 0 of BackwardHookFunction is a view and is "
                 "being modified inplace`.")


@pytest.mark.parametrize("found, model, expected", [
    (DPL003, verdict("crash", MISSING, ["teacher.0.weight", "teacher.0.bias"]), True),
    # Another submodule's missing gradients do not confirm it.
    (DPL003, verdict("crash", MISSING, ["encoder.0.weight"]), False),
    (DPL101, verdict("crash", BN_ERROR), True),
    (DPL101, verdict("crash", LSTM_ERROR), False),
    (DPL102, verdict("crash", LSTM_ERROR), True),
    # The LSTM's UnsupportedModuleError is DPL102's, not the batch_first finding's.
    (DPL002, verdict("crash", LSTM_ERROR), False),
    (DPL002_ATTN, verdict("silent", None, ["blocks.0.attn"], status="forward-mismatch"), True),
    (DPL002_ATTN, verdict("silent", None, ["rnn.weight_ih_l0"], status="mismatch"), False),
    (DPL104, verdict("crash", INPLACE), True),
    (DPL104, verdict("crash", MISSING), False),
])
def test_a_failure_confirms_only_the_finding_it_belongs_to(found, model, expected):
    assert attributable(found, model) is expected

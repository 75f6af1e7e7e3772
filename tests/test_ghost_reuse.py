"""The model question behind DPL219 (dp_lint/analysis/ghost_reuse.py): in a ghost-mode model, a trainable
`nn.Linear`/`nn.Embedding` whose parameters serve two calls per forward pass (called twice, held by a block called
twice, reached through a helper called twice, or tied to another called layer). Calls that may not run, frozen
layers, subclasses, containers, other modes and unknown modes give no answer."""

from __future__ import annotations

import textwrap
from pathlib import Path

import libcst as cst
import pytest

from dp_lint.analysis.ghost_reuse import ghost_reused_layers
from dp_lint.analysis.project import Project
from dp_lint.files.source import parse_text

HEADER = """
import torch
import torch.nn as nn
from opacus import PrivacyEngine


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 8)

    def forward(self, x):
        return self.fc(x)


class MyLinear(nn.Linear):
    pass
"""


def _found(tmp_path: Path, init: str, forward: str, mode: str = '"ghost"', methods: str = "") -> list[tuple[str, int, str | None, str]]:
    model = (
        "class Net(nn.Module):\n"
        "    def __init__(self, tie=True):\n"
        "        super().__init__()\n"
        + textwrap.indent(textwrap.dedent(init), "        ")
        + "\n    def forward(self, x, flag=False):\n"
        + textwrap.indent(textwrap.dedent(forward), "        ")
        + "\n    def helper(self, x):\n        return self.a(x)\n"
        + textwrap.indent(textwrap.dedent(methods), "    ")
    )
    main = (
        "\n\ndef main(data):\n"
        "    model = Net()\n"
        + "    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)\n"
        "    model, optimizer, criterion, loader = PrivacyEngine().make_private(module=model, optimizer=optimizer, "
        f"data_loader=data, criterion=nn.CrossEntropyLoss(), noise_multiplier=1.0, max_grad_norm=1.0, "
        f"grad_sample_mode={mode})\n"
    )
    text = textwrap.dedent(HEADER) + "\n\n" + model + main
    project = Project([parse_text(tmp_path / "train.py", "train", text)])
    return [(f.path, f.calls, f.tied_to, cst_code(f.node)) for f in ghost_reused_layers(project)]


def cst_code(node: cst.CSTNode) -> str:
    return cst.Module([]).code_for_node(node).strip()


LINEAR = "self.a = nn.Linear(8, 8)\nself.b = nn.Linear(8, 8)\n"


@pytest.mark.parametrize("init, forward, expected", [
    (LINEAR, "return self.b(self.a(self.a(x)))\n", [("Net.a", 2, None, "self.a(self.a(x))")]),
    (LINEAR, "h = self.a(x)\nreturn self.a(h) + self.b(h)\n", [("Net.a", 2, None, "self.a(h)")]),
    (LINEAR, "return self.a(x) + self.a(x) + self.a(x)\n", [("Net.a", 3, None, "self.a(x)")]),
    (LINEAR, "return self.helper(x) - self.helper(x)\n", [("Net.a", 2, None, "self.helper(x)")]),
    ("self.enc = Block()\n", "return self.enc(x) - self.enc(x[:, ::-1])\n",
     [("Net.enc.fc", 2, None, "self.enc(x[:, ::-1])")]),
    ("self.emb = nn.Embedding(10, 8)\n", "return self.emb(x) + self.emb(x + 1)\n",
     [("Net.emb", 2, None, "self.emb(x + 1)")]),
    (LINEAR + "self.c = self.a\n", "return self.c(self.a(x))\n", [("Net.a", 2, None, "self.c(self.a(x))")]),
])
def test_a_layer_called_twice(tmp_path, init, forward, expected):
    assert _found(tmp_path, init, forward) == expected


@pytest.mark.parametrize("init, forward", [
    (LINEAR, "return self.b(self.a(x))\n"),                                    # each layer once
    (LINEAR, "if flag:\n    return self.a(x)\nreturn self.a(self.b(x))\n"),   # exclusive: an early return
    (LINEAR, "h = self.a(x)\nif flag:\n    h = self.a(h)\nreturn self.b(h)\n"),  # second call may not run
    (LINEAR, "for _ in range(2):\n    x = self.a(x)\nreturn x\n"),             # a loop: not counted
    (LINEAR, "return sum(self.a(t) for t in x)\n"),                            # a comprehension
    (LINEAR + "self.a.requires_grad_(False)\n", "return self.b(self.a(self.a(x)))\n"),  # frozen
    ("self.a = MyLinear(8, 8)\n", "return self.a(self.a(x))\n"),              # a subclass: not a norm sampler
    ("self.a = nn.Conv1d(8, 8, 1)\n", "return self.a(self.a(x))\n"),           # not a norm sampler
    ("self.seq = nn.Sequential(nn.Linear(8, 8), nn.Linear(8, 8))\n", "return self.seq(self.seq(x))\n"),  # container
    (LINEAR, "with torch.no_grad():\n    t = self.a(x)\nreturn self.a(x) - t\n"),  # no grad: not counted
    (LINEAR, "return getattr(self, 'a')(x) + self.a(x)\n"),                    # dynamic access
])
def test_not_reported(tmp_path, init, forward):
    assert _found(tmp_path, init, forward) == []


@pytest.mark.parametrize("mode", ['"hooks"', '"functorch"', "mode_from_somewhere", None])
def test_only_ghost_mode(tmp_path, mode):
    mode_text = mode if mode is not None else '"ghost" if data else "hooks"'
    assert _found(tmp_path, LINEAR, "return self.a(self.a(x))\n", mode=mode_text) == []


TIED = "self.emb = nn.Embedding(10, 8)\nself.head = nn.Linear(8, 10, bias=False)\n"


@pytest.mark.parametrize("tie, expected", [
    ("self.head.weight = self.emb.weight\n", [("Net.head", 0, "Net.emb")]),
    ("if tie:\n    self.head.weight = self.emb.weight\n", [("Net.head", 0, "Net.emb")]),  # folds: tie=True
    ("if not tie:\n    self.head.weight = self.emb.weight\n", []),
    ("if torch.cuda.is_available():\n    self.head.weight = self.emb.weight\n", []),  # cannot fold
    ("self.head.weight = nn.Parameter(self.emb.weight.clone())\n", []),  # a copy, not a tie
])
def test_ties(tmp_path, tie, expected):
    found = _found(tmp_path, TIED + tie, "return self.head(self.emb(x))\n")
    assert [(p, c, t) for p, c, t, _ in found] == expected


def test_a_tie_to_a_layer_that_is_not_called_is_not_reported(tmp_path):
    found = _found(tmp_path, TIED + "self.head.weight = self.emb.weight\n", "return self.emb(x)\n")
    assert found == []


def test_a_tie_in_a_method_called_from_init(tmp_path):
    init = TIED + "self.tie_weights()\n"
    methods = "\ndef tie_weights(self):\n    self.head.weight = self.emb.weight\n"
    found = _found(tmp_path, init, "return self.head(self.emb(x))\n", methods=methods)
    assert [(p, c, t, code) for p, c, t, code in found] == [("Net.head", 0, "Net.emb", "self.head.weight = self.emb.weight")]


GETTERS = """
def get_input_embeddings(self):
    return self.emb

def get_output_embeddings(self):
    return self.head

def post_init(self):
    self.tie_weights()

def _tie_or_clone_weights(self, output_embeddings, input_embeddings):
    output_embeddings.weight = input_embeddings.weight
"""

HF_TIE = """
def tie_weights(self):
    output_embeddings = self.get_output_embeddings()
    if output_embeddings is not None:
        self._tie_or_clone_weights(output_embeddings, self.get_input_embeddings())
"""


@pytest.mark.parametrize("methods, expected", [
    (GETTERS + HF_TIE, [("Net.head", 0, "Net.emb")]),                     # getters, parameters, `is not None`
    (GETTERS + HF_TIE.replace("if output_embeddings is not None", "if tie and output_embeddings is not None"),
     [("Net.head", 0, "Net.emb")]),                                       # folds with __init__'s tie=True
    (GETTERS.replace("return self.head", "return None") + HF_TIE, []),    # no output embeddings: no tie
    (GETTERS + HF_TIE.replace("is not None", "is None"), []),
    (GETTERS + HF_TIE.replace("    output_embeddings = self", "    if flag:\n        return\n    output_embeddings = self"),
     []),                                                                 # may return first
    (GETTERS + HF_TIE.replace("if output_embeddings is not None", "if output_embeddings.weight.requires_grad"), []),
    (GETTERS.replace("self.tie_weights()", "for _ in range(1):\n        self.tie_weights()") + HF_TIE, []),
])
def test_a_tie_through_getters_and_helpers(tmp_path, methods, expected):
    init = TIED + "self.post_init()\n"
    found = _found(tmp_path, init, "return self.head(self.emb(x))\n", methods=methods.replace("flag", "self.training"))
    assert [(p, c, t) for p, c, t, _ in found] == expected
    if expected:
        assert found[0][3] == "output_embeddings.weight = input_embeddings.weight"

"""The analysis question DPL111 asks (`dp_lint.analysis.position_ids`): are an embedding's ids
certainly without a batch dimension (`torch.arange(T)`, `[1, T]`), and, for the fix, which operand
of the `+` has the batch on dimension 0 and which expression gives the batch size."""

from __future__ import annotations

from pathlib import Path

import libcst as cst
import pytest

from dp_lint.analysis.position_ids import IdsSite, batch_size_expression, batched_operand, batchless_ids
from dp_lint.analysis.project import Project
from dp_lint.files.source import parse_text

HEADER = """
import torch
import torch.nn as nn
"""

INIT = """
class M(nn.Module):
    def __init__(self, n=16, d=8):
        super().__init__()
        self.tok = nn.Embedding(50, d)
        self.pos = nn.Embedding(n, d)
        self.proj = nn.Linear(d, d)
        {init}

    def forward(self, idx):
        {body}
"""


def _site(init: str, body: str) -> tuple[IdsSite, cst.BaseExpression]:
    text = HEADER + INIT.format(init=init or "pass", body=body.strip().replace("\n", "\n        "))
    project = Project([parse_text(Path("model.py"), "model", text)])
    cls = project.index.lookup_class("model.M")
    flow = project.gradient_flow(cls)
    [site] = flow.sites_of("pos")
    function = site.context[-1]
    assert isinstance(function, cst.FunctionDef)
    ids_site = IdsSite(site.node, function, project.index.by_file[site.file], site.file, cls, project.index)
    return ids_site, site.node.args[0].value


def ids(body: str, init: str = "") -> tuple[int, str | None] | None:
    site, argument = _site(init, body)
    found = batchless_ids(argument, site)
    return (found.rank, found.buffer) if found is not None else None


@pytest.mark.parametrize("body, expected", [
    ("return self.pos(torch.arange(idx.size(1)))", (1, None)),
    ("pos = torch.arange(0, idx.size(1), dtype=torch.long, device=idx.device)\nreturn self.tok(idx) + self.pos(pos)",
     (1, None)),
    ("pos = torch.arange(idx.size(1)).unsqueeze(0)\nreturn self.pos(pos)", (2, None)),
    ("pos = torch.arange(idx.size(1))\npos = pos.unsqueeze(dim=0).to(idx.device)\nreturn self.pos(pos)", (2, None)),
    ("return self.pos(torch.arange(idx.size(1))[None])", (2, None)),
    ("return self.pos(torch.arange(idx.size(1))[None, :])", (2, None)),
    ("return self.pos(torch.arange(idx.size(1)).view(1, -1))", (2, None)),
    ("return self.pos(torch.arange(idx.size(1)).expand(1, -1))", (2, None)),
    ("return self.pos(torch.arange(idx.size(1)).long() + 2)", (1, None)),
])
def test_arange_ids_without_a_batch_dimension(body, expected):
    assert ids(body) == expected


@pytest.mark.parametrize("body", [
    "return self.pos(torch.arange(idx.size(1)).expand(idx.size(0), -1))",
    "return self.pos(torch.arange(idx.size(1)).unsqueeze(0).expand(idx.shape[0], -1))",
    "return self.pos(torch.arange(idx.size(1)).repeat(idx.size(0), 1))",
    "return self.pos(torch.arange(idx.size(1)).unsqueeze(0).expand_as(idx))",
    "return self.pos(torch.arange(idx.size(1)).unsqueeze(1))",
    "return self.pos(idx)",
    "return self.pos(torch.arange(idx.size(1)) + idx)",
    # a name bound in a branch, or a parameter: unknown
    "if idx.size(1) > 4:\n    pos = torch.arange(4)\nelse:\n    pos = idx\nreturn self.pos(pos)",
    "pos = torch.arange(idx.size(1))\nfor _ in range(2):\n    pos = pos + idx\nreturn self.pos(pos)",
    # the name is rebound after the lookup only: the value at the call counts
])
def test_ids_with_a_batch_dimension_or_unknown_give_no_answer(body):
    assert ids(body) is None


def test_the_value_at_the_call_counts():
    assert ids("pos = torch.arange(idx.size(1))\nh = self.pos(pos)\npos = idx\nreturn h") == (1, None)
    assert ids("pos = torch.arange(idx.size(1))\npos = pos.expand(idx.size(0), -1)\nreturn self.pos(pos)") is None


def test_registered_buffers():
    init = 'self.register_buffer("position_ids", torch.arange(n).expand((1, -1)), persistent=False)'
    assert ids("return self.pos(self.position_ids[:, : idx.size(1)])", init) == (2, "position_ids")
    assert ids("return self.pos(self.position_ids[0, : idx.size(1)])", init) == (1, "position_ids")
    assert ids("return self.pos(self.position_ids[:, : idx.size(1)].expand(idx.size(0), -1))", init) is None
    local = 'ids = torch.arange(n)\n        self.register_buffer("positions", ids)'
    assert ids("return self.pos(self.positions[: idx.size(1)])", local) == (1, "positions")
    # assigned as well as registered, or registered outside __init__: unknown
    both = init + "\n        self.position_ids = torch.zeros(1, n, dtype=torch.long)"
    assert ids("return self.pos(self.position_ids[:, : idx.size(1)])", both) is None
    assert ids("return self.pos(self.missing[:, : idx.size(1)])", init) is None


def fix_facts(body: str) -> tuple[bool, str | None]:
    site, _ = _site("", body)
    parent = site.file.parents[site.call]
    assert isinstance(parent, cst.BinaryOperation)
    other = parent.right if parent.left is site.call else parent.left
    layers = {"tok": "Embedding", "pos": "Embedding", "proj": "Linear"}
    batched = batched_operand(other, site, layers)
    return batched, batch_size_expression(site, other) if batched else None


def test_the_batched_operand_and_the_batch_size():
    pos = "pos = torch.arange(idx.size(1))\n"
    assert fix_facts("b, t = idx.size()\n" + pos + "return self.tok(idx) + self.pos(pos)") == (True, "b")
    assert fix_facts("B, T = idx.shape\n" + pos + "return self.pos(pos) + self.tok(idx)") == (True, "B")
    assert fix_facts("bsz = idx.size(0)\n" + pos + "return self.tok(idx) + self.pos(pos)") == (True, "bsz")
    assert fix_facts(pos + "return self.tok(idx) + self.pos(pos)") == (True, "idx.size(0)")
    assert fix_facts(pos + "h = self.proj(self.tok(idx))\nreturn h + self.pos(pos)") == (True, "h.size(0)")
    assert fix_facts(pos + "idx = self.tok(idx).transpose(1, 2).contiguous()\nreturn idx + self.pos(pos)") == (
        True, "idx.size(0)")
    # a tensor without a known batch dimension 0: no fix
    assert fix_facts(pos + "h = self.tok(idx).mean(0)\nreturn h + self.pos(pos)") == (False, None)
    assert fix_facts(pos + "return self.tok(pos) + self.pos(pos)") == (False, None)
    assert fix_facts(pos + "h = self.tok(idx).transpose(0, 1)\nreturn h + self.pos(pos)") == (False, None)


def test_augmented_assignments_read_as_the_operation():
    pos = "pos = torch.arange(idx.size(1))\n"
    assert fix_facts(pos + "h = self.tok(idx)\nh += self.proj(h)\nreturn h + self.pos(pos)") == (True, "h.size(0)")
    assert ids("pos = torch.arange(idx.size(1))\npos += 2\nreturn self.pos(pos)") == (1, None)

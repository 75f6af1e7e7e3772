"""The analysis questions DPL106 asks: which submodule attributes forward reads with gradient
(`FlowResult.parameter_reads`), which classes Opacus hooks submodule by submodule
(`LayerTree.hooked_classes`), a class's `nn.Parameter` names (`ModuleClass.parameter_attrs`), and
attribute ties (`usage.ties_parameter`)."""

from __future__ import annotations

from pathlib import Path

from dp_lint.analysis.project import Project
from dp_lint.analysis.usage import ties_parameter
from dp_lint.files.source import parse_text

HEADER = """
import torch
import torch.nn as nn
import torch.nn.functional as F
"""


def project(body: str) -> Project:
    return Project([parse_text(Path("model.py"), "model", HEADER + body)])


def reads(body: str, cls: str) -> list[tuple[str, str, str]]:
    p = project(body)
    flow = p.gradient_flow(p.index.lookup_class(f"model.{cls}"))
    code = p.files[0].module.code_for_node
    return [(r.attr, r.name, code(r.node)) for r in flow.parameter_reads]


def test_reads_that_carry_gradient_are_recorded_in_forward_and_the_methods_it_calls():
    assert reads("""
class LM(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(10, 4)
        self.proj = nn.Linear(4, 4)
        self.pos = nn.Embedding(8, 4)

    def head(self, h):
        return F.linear(h, self.emb.weight)

    def forward(self, ids):
        h = self.emb(ids) + self.pos.weight[: ids.shape[1]]
        h = torch.matmul(h, self.proj.weight) + self.proj.bias * 2
        return self.head(h) + h @ self.emb.weight.t()
""", "LM") == [
        ("pos", "weight", "self.pos.weight"),
        ("proj", "weight", "self.proj.weight"),
        ("proj", "bias", "self.proj.bias"),
        ("emb", "weight", "self.emb.weight"),
        ("emb", "weight", "self.emb.weight"),
    ]


def test_reads_without_gradient_are_not_recorded():
    assert reads("""
class Encoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(10, 4)
        self.proj = nn.Linear(4, 4)

    def forward(self, ids):
        h = self.emb(ids) * self.emb.weight.shape[1] ** -0.5
        h = h.to(self.proj.weight.dtype) + self.emb.weight.size(0)
        if self.proj.bias is not None:
            h = self.proj(h)
        with torch.no_grad():
            scale = self.emb.weight.norm()
        zeros = torch.zeros_like(self.proj.weight)
        return h / scale + self.proj.weight.detach().sum() + self.emb.weight.data.mean() + zeros.sum()
""", "Encoder") == []


def test_eval_branch_reads_are_not_recorded():
    # Opacus trains in training mode: what only the eval branch reads is not a training use.
    assert reads("""
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 4)

    def forward(self, x):
        if not self.training:
            return x @ self.fc.weight.t()
        return self.fc(x)
""", "Net") == []


def test_hooked_classes_stop_at_a_class_with_parameters_of_its_own():
    p = project("""
class Attn(nn.Module):
    def __init__(self):
        super().__init__()
        self.qkv = nn.Linear(4, 12)

class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.attn = Attn()
        self.gamma = nn.Parameter(torch.ones(4))

class Plain(nn.Module):
    def __init__(self):
        super().__init__()
        self.attn = Attn()

class Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.block = Block()
        self.plain = Plain()
""")
    root = p.layer_tree.root(p.index.lookup_class("model.Model"))
    assert sorted(c.name for c in p.layer_tree.hooked_classes(root)) == ["Attn", "Model", "Plain"]
    inner = p.layer_tree.root(p.index.lookup_class("model.Block"))
    assert p.layer_tree.hooked_classes(inner) == set()


def test_parameter_attrs_leave_out_parameters_built_frozen():
    p = project("""
class Embed(nn.Module):
    def __init__(self):
        super().__init__()
        self.pos = nn.Parameter(torch.zeros(1, 8, 4))
        self.fixed = nn.Parameter(torch.zeros(4), requires_grad=False)
        self.also_fixed = nn.Parameter(torch.zeros(4), False)
        self.proj = nn.Linear(4, 4)
""")
    model = p.modules.model(p.index.lookup_class("model.Embed"))
    assert model.parameter_attrs == {"pos"} and model.direct_parameters


def test_ties_parameter_sees_either_side_of_an_attribute_tie():
    p = project("""
class LM(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(10, 4)
        self.head = nn.Linear(4, 10, bias=False)
        self.other = nn.Linear(4, 4)
        self.tie()

    def tie(self):
        self.head.weight = self.emb.weight
""")
    cls = p.index.lookup_class("model.LM")
    assert ties_parameter(p, cls, "emb") and ties_parameter(p, cls, "head")
    assert not ties_parameter(p, cls, "other")


def _dpl106_fixes(body: str) -> list[str | None]:
    """The new text of each DPL106 finding's fix (None: no fix) on `body`."""
    from dp_lint.catalogue.loader import load_catalogue
    from dp_lint.fix.edits import apply_edits

    rule = next(entry.rule for entry in load_catalogue() if entry.code == "DPL106")
    p = project(body)
    return [None if f.fix is None else apply_edits(p.files[0].text, f.fix.edits) for f in rule.run(p)]


TIED = """
class LM(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(10, 4)
        self.mix = nn.Linear(4, 4)

    def forward(self, ids):
        h = self.mix(self.emb(ids))
        return {head}
"""


def test_tied_head_fix_covers_matmul_transpose_and_functional_linear():
    for head in ("h @ self.emb.weight.t()", "h @ self.emb.weight.T", "torch.matmul(h, self.emb.weight.transpose(0, 1))",
                 "F.linear(h, self.emb.weight)"):
        (fixed,) = _dpl106_fixes(TIED.format(head=head))
        assert fixed is not None, head
        assert "nn.Linear(self.emb.embedding_dim, self.emb.num_embeddings, bias=False)\n" \
               "        self.emb_head.weight = self.emb.weight\n" in fixed, head
        assert "        self.emb = nn.Embedding(10, 4)\n        self.emb_head = " in fixed, head
        assert "return self.emb_head(h)\n" in fixed, head


def test_no_tied_head_fix_where_the_product_is_not_a_head():
    # `h @ self.emb.weight` (no transpose) multiplies by the table itself; `F.linear` with a bias
    # is not a bias-free head; a Linear's weight is no embedding table.
    for head in ("h @ self.emb.weight", "F.linear(h, self.emb.weight, self.mix.bias)", "h @ self.mix.weight.t()"):
        fixes = _dpl106_fixes(TIED.format(head=head))
        assert fixes and all(fix is None for fix in fixes), head

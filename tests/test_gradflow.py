"""The forward gradient-flow analysis behind DPL001/DPL003, on shapes seen in real code.

Most cases here must stay silent: a finding on harmless code costs more trust than a miss.
"""

from __future__ import annotations

from lint_helpers import lint, lint_one

HEADER = """
import copy
import torch
import torch.nn as nn
import torch.nn.functional as F
"""


def check(tmp_path, body: str):
    return lint_one(tmp_path, HEADER + body)


def test_moco_zip_freeze_loop_and_no_grad_key_encoder_is_clean(tmp_path):
    assert check(tmp_path, """
class MoCo(nn.Module):
    def __init__(self, dim=16, K=64, m=0.99):
        super().__init__()
        self.m = m
        self.encoder_q = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, dim))
        self.encoder_k = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, dim))
        for param_q, param_k in zip(self.encoder_q.parameters(), self.encoder_k.parameters()):
            param_k.data.copy_(param_q.data)
            param_k.requires_grad = False
        self.register_buffer("queue", torch.randn(dim, K))

    @torch.no_grad()
    def _momentum_update_key_encoder(self):
        for param_q, param_k in zip(self.encoder_q.parameters(), self.encoder_k.parameters()):
            param_k.data = param_k.data * self.m + param_q.data * (1.0 - self.m)

    @torch.no_grad()
    def _dequeue_and_enqueue(self, keys):
        self.queue[:, :keys.shape[0]] = keys.T

    def forward(self, im_q, im_k):
        q = F.normalize(self.encoder_q(im_q), dim=1)
        with torch.no_grad():
            self._momentum_update_key_encoder()
            k = F.normalize(self.encoder_k(im_k), dim=1)
        l_pos = torch.einsum("nc,nc->n", [q, k]).unsqueeze(-1)
        l_neg = torch.einsum("nc,ck->nk", [q, self.queue.clone().detach()])
        logits = torch.cat([l_pos, l_neg], dim=1)
        self._dequeue_and_enqueue(k)
        return logits
""") == []


def test_symmetric_simsiam_is_clean(tmp_path):
    assert check(tmp_path, """
class SimSiam(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(8, 8), nn.ReLU(), nn.Linear(8, 8))
        self.predictor = nn.Sequential(nn.Linear(8, 4), nn.ReLU(), nn.Linear(4, 8))

    def forward(self, x1, x2):
        z1, z2 = self.encoder(x1), self.encoder(x2)
        p1, p2 = self.predictor(z1), self.predictor(z2)
        return p1, p2, z1.detach(), z2.detach()
""") == []


def test_asymmetric_detach_is_flagged_at_the_detach(tmp_path):
    assert check(tmp_path, """
class Asym(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = nn.Linear(8, 8)
        self.predictor = nn.Linear(8, 8)

    def forward(self, x1, x2):
        z1 = self.encoder(x1)
        z2 = self.encoder(x2)
        p1 = self.predictor(z1)
        return -F.cosine_similarity(p1, z2.detach()).mean()
""") == [(16, "DPL001")]


def test_byol_lucidrains_style_set_requires_grad_helper_is_clean(tmp_path):
    assert check(tmp_path, """
def set_requires_grad(model, val):
    for p in model.parameters():
        p.requires_grad = val

class BYOL(nn.Module):
    def __init__(self):
        super().__init__()
        self.online = nn.Linear(8, 8)
        self.target = copy.deepcopy(self.online)
        set_requires_grad(self.target, False)

    def forward(self, x):
        return (self.online(x) - self.target(x).detach()).pow(2).sum()
""") == []


def test_teacher_frozen_in_training_script_is_clean(tmp_path):
    found = lint(tmp_path, {
        "models/__init__.py": "",
        "models/kd.py": HEADER + """
class Distiller(nn.Module):
    def __init__(self):
        super().__init__()
        self.student = nn.Linear(8, 4)
        self.teacher = nn.Linear(8, 4)

    def forward(self, x):
        return F.kl_div(self.student(x).log_softmax(-1), self.teacher(x).detach().softmax(-1))
""",
        "train.py": """
from models.kd import Distiller
model = Distiller()
model.teacher.requires_grad_(False)
""",
    })
    assert found == []


def test_gan_loop_detach_outside_forward_is_clean(tmp_path):
    assert check(tmp_path, """
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

def train_step(netG, netD, z):
    fake = netG(z)
    return netD(fake.detach()).mean()
""") == []


def test_parameter_free_module_and_detached_inputs_are_clean(tmp_path):
    assert check(tmp_path, """
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.act = nn.ReLU()
        self.pool = nn.AdaptiveAvgPool1d(1)
        self.fc = nn.Linear(8, 8)
        self.norm = nn.LayerNorm(8, elementwise_affine=False)

    def forward(self, x):
        x = x.detach()
        mask = self.act(x).detach()
        n = self.norm(x).detach()
        return self.fc(x) * mask + n
""") == []


def test_module_used_in_another_method_is_not_dpl003(tmp_path):
    assert check(tmp_path, """
class Classifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.backbone = nn.Linear(8, 8)
        self.head = nn.Linear(8, 2)

    def embed(self, x):
        return self.backbone(x)

    def classify(self, h):
        return self.head(h)

    def forward(self, x):
        return self.embed(x)
""") == []


def test_unused_trainable_submodule_is_dpl003(tmp_path):
    assert check(tmp_path, """
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 8)
        self.aux_head = nn.Linear(8, 2)

    def forward(self, x):
        return self.fc(x)
""") == [(10, "DPL003")]


def test_module_called_from_training_script_is_not_dpl003(tmp_path):
    found = lint(tmp_path, {
        "net.py": HEADER + """
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 8)
        self.head = nn.Linear(8, 2)

    def forward(self, x):
        return self.fc(x)
""",
        "train.py": "from net import Net\nmodel = Net()\nlogits = model.head(model(x))\n",
    })
    assert found == []


def test_subclass_forward_uses_base_submodule(tmp_path):
    assert check(tmp_path, """
class Base(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = nn.Linear(8, 8)
        self.head = nn.Linear(8, 2)

class Model(Base):
    def forward(self, x):
        return self.head(self.encoder(x))
""") == []


def test_modulelist_loop_and_checkpoint_are_followed(tmp_path):
    assert check(tmp_path, """
from torch.utils.checkpoint import checkpoint

class Block(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.fc = nn.Linear(d, d)
    def forward(self, x):
        return x + self.fc(x)

class Tower(nn.Module):
    def __init__(self, depth=3):
        super().__init__()
        self.blocks = nn.ModuleList([Block(8) for _ in range(depth)])
        self.extra = Block(8)
        self.out = nn.Linear(8, 1)

    def forward(self, x):
        for blk in self.blocks:
            x = blk(x)
        x = checkpoint(self.extra, x)
        return self.out(x)
""") == []


def test_no_grad_region_reading_a_gradient_value_is_flagged(tmp_path):
    found = check(tmp_path, """
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.enc = nn.Linear(8, 8)
        self.proj = nn.Linear(8, 8)
        self.head = nn.Linear(8, 8)

    def forward(self, x):
        h = self.enc(x)
        with torch.no_grad():
            z = self.proj(h)
        return self.head(x) + z
""")
    # enc's only output is read inside no_grad (DPL001 there); enc and proj never get a gradient.
    assert found == [(9, "DPL003"), (10, "DPL003"), (16, "DPL001")]


def test_detach_in_place_statement_and_data_attribute(tmp_path):
    found = check(tmp_path, """
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.online = nn.Linear(8, 8)
        self.target = nn.Linear(8, 8)
        self.target2 = nn.Linear(8, 8)

    def forward(self, x):
        t = self.target(x)
        t.detach_()
        u = self.target2(x).data
        return (self.online(x) - t - u).pow(2).sum()
""")
    assert found == [(10, "DPL003"), (11, "DPL003"), (15, "DPL001"), (16, "DPL001")]


def test_unknown_grad_mode_and_unattributed_freeze_stay_silent(tmp_path):
    assert check(tmp_path, """
class A(nn.Module):
    def __init__(self, freeze_target=True):
        super().__init__()
        self.online = nn.Linear(8, 8)
        self.target = nn.Linear(8, 8)
        for name, p in self.named_parameters():
            if name.startswith("target"):
                p.requires_grad = False

    def forward(self, x):
        return self.online(x) - self.target(x).detach()

class B(nn.Module):
    def __init__(self):
        super().__init__()
        self.online = nn.Linear(8, 8)
        self.target = nn.Linear(8, 8)

    def forward(self, x, train_target=False):
        with torch.set_grad_enabled(train_target):
            t = self.target(x)
        return self.online(x) - t
""") == []


def test_getattr_dynamic_access_stays_silent_for_dpl003(tmp_path):
    assert check(tmp_path, """
class Heads(nn.Module):
    def __init__(self):
        super().__init__()
        self.head_a = nn.Linear(8, 2)
        self.head_b = nn.Linear(8, 2)
        self.task = "a"

    def forward(self, x):
        return getattr(self, "head_" + self.task)(x)
""") == []


def test_injected_module_is_medium_confidence(tmp_path):
    from dp_lint.files.discovery import discover
    from dp_lint.lint.check import check_files

    (tmp_path / "m.py").write_text(HEADER + """
class Wrapper(nn.Module):
    def __init__(self, student, teacher):
        super().__init__()
        self.student = student
        self.teacher = teacher

    def forward(self, x):
        return self.student(x) - self.teacher(x).detach()
""")
    findings = check_files(discover([tmp_path])).findings
    assert [(f.code, f.confidence.value) for f in findings] == [("DPL001", "medium")]


def test_self_method_called_twice_makes_two_call_sites(tmp_path):
    found = check(tmp_path, """
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.enc = nn.Linear(8, 8)

    def encode(self, x):
        return self.enc(x)

    def forward(self, a, b):
        za = self.encode(a)
        zb = self.encode(b).detach()
        return (za - zb).sum()
""")
    assert found == [(16, "DPL001")]


def test_frozen_via_chained_requires_grad_and_eval_is_clean(tmp_path):
    assert check(tmp_path, """
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.student = nn.Linear(8, 8)
        self.teacher = copy.deepcopy(self.student).requires_grad_(False).eval()

    def forward(self, x):
        return self.student(x) - self.teacher(x).detach()
""") == []


def test_two_projects_with_the_same_module_names_resolve_their_own_imports(tmp_path):
    model_a = HEADER + """
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(8, 8, batch_first=True)
    def forward(self, x):
        return self.lstm(x)[0]
"""
    model_b = HEADER + """
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(8, 8, batch_first=True)
    def forward(self, x):
        return self.lstm(x)[0]
"""
    train = "from model import Net\nfrom opacus import PrivacyEngine\nm = Net()\nPrivacyEngine().make_private(module=m, batch_first={bf})\n"
    found = lint(tmp_path, {
        "a/model.py": model_a, "a/train.py": train.format(bf=True),
        "b/model.py": model_b, "b/train.py": train.format(bf=False),
    }, select={"DPL002"})
    # Only b's engine disagrees with its own model's layer.
    assert found == [("b/model.py", 9, "DPL002")]


def test_parameter_read_outside_the_module_call_is_not_dpl003(tmp_path):
    # The sliced table is DPL106's (a parameter used outside its module), not a module without gradient.
    assert check(tmp_path, """
class GPT(nn.Module):
    def __init__(self):
        super().__init__()
        self.tok = nn.Embedding(50, 8)
        self.pos = nn.Embedding(16, 8)
        self.head = nn.Linear(8, 50)

    def forward(self, idx):
        h = self.tok(idx) + self.pos.weight[: idx.shape[1]]
        return self.head(h)
""") == [(14, "DPL106")]


def test_abstract_forward_is_not_judged(tmp_path):
    assert check(tmp_path, """
class Base(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = nn.Linear(8, 8)

    def forward(self, x):
        raise NotImplementedError
""") == []


def test_eval_only_branch_is_not_counted(tmp_path):
    assert check(tmp_path, """
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Linear(8, 8)
        self.head = nn.Linear(8, 2)

    def forward(self, x):
        if not self.training:
            return self.head(self.body(x)).detach()
        return self.head(self.body(x))
""") == []


def test_training_branch_detach_is_still_flagged(tmp_path):
    assert check(tmp_path, """
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.online = nn.Linear(8, 8)
        self.target = nn.Linear(8, 8)

    def forward(self, x):
        out = self.online(x)
        if self.training:
            out = out - self.target(x).detach()
        return out
""") == [(10, "DPL003"), (15, "DPL001")]


def test_container_iteration_counts_as_calls(tmp_path):
    assert check(tmp_path, """
class MultiTask(nn.Module):
    def __init__(self):
        super().__init__()
        self.trunk = nn.Linear(8, 8)
        self.heads = nn.ModuleDict({"a": nn.Linear(8, 2), "b": nn.Linear(8, 3)})
        self.blocks = nn.ModuleList([nn.Linear(8, 8) for _ in range(2)])
        self.extra = nn.ModuleList([nn.Linear(8, 8) for _ in range(2)])

    def forward(self, x):
        h = self.trunk(x)
        for i, blk in enumerate(self.blocks):
            h = blk(h)
        for blk in reversed(self.extra):
            h = blk(h)
        return {name: head(h) for name, head in self.heads.items()}
""") == []


def test_detach_through_container_iteration_is_flagged(tmp_path):
    assert check(tmp_path, """
class Ensemble(nn.Module):
    def __init__(self):
        super().__init__()
        self.student = nn.Linear(8, 2)
        self.teachers = nn.ModuleDict({"a": nn.Linear(8, 2), "b": nn.Linear(8, 2)})

    def forward(self, x):
        targets = sum(t(x).detach() for t in self.teachers.values())
        return (self.student(x) - targets).pow(2).sum()
""") == [(10, "DPL003"), (13, "DPL001")]


def test_iterating_over_self_modules_is_dynamic_access(tmp_path):
    assert check(tmp_path, """
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = nn.Linear(8, 8)
        self.b = nn.Linear(8, 8)

    def forward(self, x):
        for m in self.children():
            x = m(x)
        return x
""") == []


PROBE = """
import torch
import torch.nn as nn


class LinearProbe(nn.Module):
    def __init__(self):
        super().__init__()
        self.backbone = nn.Sequential(nn.Linear(8, 8), nn.ReLU())
        self.head = nn.Linear(8, 2)

    def forward(self, x):
        return self.head(self.backbone(x).detach())
"""


def test_submodules_left_out_of_every_optimizer_are_not_reported(tmp_path):
    train = "import torch\nfrom probe import LinearProbe\nmodel = LinearProbe()\nopt = torch.optim.SGD(model.head.parameters(), lr=0.1)\n"
    assert lint(tmp_path / "a", {"probe.py": PROBE, "train.py": train}) == []
    groups = "import torch\nfrom probe import LinearProbe\nm = LinearProbe()\nopt = torch.optim.Adam([{'params': m.head.parameters(), 'lr': 1e-3}])\n"
    assert lint(tmp_path / "b", {"probe.py": PROBE, "train.py": groups}) == []


def test_an_optimizer_over_all_parameters_keeps_the_findings(tmp_path):
    train = ("import torch\nfrom probe import LinearProbe\nmodel = LinearProbe()\n"
             "opt = torch.optim.SGD(filter(lambda p: p.requires_grad, model.parameters()), lr=0.1)\n")
    found = lint(tmp_path, {"probe.py": PROBE, "train.py": train})
    assert [code for _, _, code in found] == ["DPL003", "DPL001"]


WRAPPER = """
import torch
import torch.nn as nn


class Wrapper(nn.Module):
    def __init__(self, student, teacher):
        super().__init__()
        self.student = student
        self.teacher = teacher

    def forward(self, x):
        return self.student(x) + self.teacher(x).detach()
"""


def test_an_optimizer_over_a_module_a_wrapper_stores_names_that_attribute(tmp_path):
    # `student.parameters()` where `Wrapper(student, teacher)` stores it as `self.student`: the
    # teacher is never stepped (a DINO notebook that leaves the copied teacher unfrozen).
    script = ("import copy\nimport torch\nfrom wrapper import Wrapper\nstudent = torch.nn.Linear(8, 8)\n"
              "teacher = copy.deepcopy(student)\nmodel = Wrapper(student, teacher)\n"
              "opt = torch.optim.SGD(student.parameters(), lr=0.1)\n")
    assert lint(tmp_path / "a", {"wrapper.py": WRAPPER, "train.py": script}) == []
    # Handed to something else too (it may be stored there), or optimized whole: findings stay.
    handed = script + "other = Wrapper(student, student)\n"
    assert [code for _, _, code in lint(tmp_path / "b", {"wrapper.py": WRAPPER, "train.py": handed})] == ["DPL003", "DPL001"]
    whole = script.replace("student.parameters()", "model.parameters()")
    assert [code for _, _, code in lint(tmp_path / "c", {"wrapper.py": WRAPPER, "train.py": whole})] == ["DPL003", "DPL001"]

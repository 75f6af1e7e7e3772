"""Issue 10 items 4 and 7 on shapes that need other libraries (torchvision, lightly), which cannot
run beside this torch: static regressions, no torch needed. Unknown is not trainable."""

from __future__ import annotations

from lint_helpers import lint, lint_one

from dp_lint.analysis import knowledge as tk


def test_parameter_free_torchvision_transform_is_not_trainable(tmp_path):
    assert lint_one(tmp_path, """
import torch.nn as nn
import torchvision.transforms as T


class Augmented(nn.Module):
    def __init__(self):
        super().__init__()
        self.crop = T.RandomResizedCrop(8)
        self.fc = nn.Linear(8, 2)

    def forward(self, x):
        return self.fc(self.crop(x).detach().flatten(1)[:, :8])
""") == []


def test_unknown_external_module_gives_no_finding(tmp_path):
    assert lint_one(tmp_path, """
import torch.nn as nn
from kornia.augmentation import RandomCrop


class Augmented(nn.Module):
    def __init__(self):
        super().__init__()
        self.crop = RandomCrop((8, 8))
        self.fc = nn.Linear(8, 2)

    def forward(self, x):
        return self.fc(self.crop(x).detach().flatten(1))
""") == []


def test_torchvision_model_owns_parameters(tmp_path):
    found = lint_one(tmp_path, """
import torch.nn as nn
import torchvision


class Probe(nn.Module):
    def __init__(self):
        super().__init__()
        self.backbone = torchvision.models.resnet18(num_classes=8)
        self.head = nn.Linear(8, 2)

    def forward(self, x):
        return self.head(self.backbone(x).detach())
""")
    assert (12, "DPL001") in found and (8, "DPL003") in found


def test_lightly_deactivate_requires_grad_freezes(tmp_path):
    assert lint_one(tmp_path, """
import copy
import torch.nn as nn
from lightly.models.utils import deactivate_requires_grad


class BYOL(nn.Module):
    def __init__(self):
        super().__init__()
        self.backbone = nn.Linear(8, 8)
        self.momentum_encoder = copy.deepcopy(self.backbone)
        deactivate_requires_grad(self.momentum_encoder)

    def forward(self, x):
        return self.backbone(x) - self.momentum_encoder(x).detach()
""") == []


def test_project_helper_freezing_parameters_freezes(tmp_path):
    assert lint(tmp_path, {
        "helpers.py": """
def freeze(params):
    for p in params:
        p.requires_grad = False
""",
        "model.py": """
import torch.nn as nn
from helpers import freeze


class Latent(nn.Module):
    def __init__(self):
        super().__init__()
        self.vae = nn.Linear(8, 8)
        self.head = nn.Linear(8, 2)
        freeze(self.vae.parameters())

    def forward(self, x):
        return self.head(self.vae(x).detach())
""",
    }) == []


def test_module_handed_to_unknown_library_function_is_unknown(tmp_path):
    assert lint(tmp_path, {
        "helpers.py": """
import peft


def prepare(module):
    peft.prepare(module)
""",
        "model.py": """
import torch.nn as nn
import somelib
from helpers import prepare


class Latent(nn.Module):
    def __init__(self):
        super().__init__()
        self.enc = nn.Linear(8, 8)
        self.aux = nn.Linear(8, 8)
        self.head = nn.Linear(8, 2)
        somelib.freeze_module(self.enc)
        prepare(self.aux)

    def forward(self, x):
        return self.head(self.enc(x).detach() + self.aux(x).detach())
""",
    }) == []


def test_module_handed_to_torch_function_is_still_known(tmp_path):
    found = lint_one(tmp_path, """
import torch.nn as nn


class Latent(nn.Module):
    def __init__(self):
        super().__init__()
        self.enc = nn.Linear(8, 8)
        self.head = nn.Linear(8, 2)
        nn.init.zeros_(self.enc.weight)

    def forward(self, x):
        return self.head(self.enc(x).detach())
""")
    assert "DPL001" in [code for _, code in found]


def test_shared_module_handed_to_children_in_a_module_list_is_not_dpl003(tmp_path):
    # CoaT (timm's coat.py): `nn.ModuleList([SerialBlock(..., shared_cpe=self.cpe1) ...])`; each
    # block calls `self.cpe(x)`, so the shared module trains: no DPL003 and no freezing fix.
    found = lint_one(tmp_path, """
import torch.nn as nn


class ConvPosEnc(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.proj = nn.Conv1d(dim, dim, 3, padding=1, groups=dim)

    def forward(self, x):
        return x + self.proj(x.transpose(1, 2)).transpose(1, 2)


class SerialBlock(nn.Module):
    def __init__(self, dim, shared_cpe=None):
        super().__init__()
        self.cpe = shared_cpe
        self.mlp = nn.Linear(dim, dim)

    def forward(self, x):
        return self.mlp(self.cpe(x))


class CoaTLite(nn.Module):
    def __init__(self, dim=8, depth=2):
        super().__init__()
        self.cpe1 = ConvPosEnc(dim)
        self.serial_blocks1 = nn.ModuleList([SerialBlock(dim, shared_cpe=self.cpe1) for _ in range(depth)])

    def forward(self, x):
        for blk in self.serial_blocks1:
            x = blk(x)
        return x.mean(1)
""")
    assert not [f for f in found if f[1] == "DPL003"]


def test_ema_helper_that_only_reads_parameters_is_not_a_use(tmp_path):
    found = lint_one(tmp_path, """
import torch
import torch.nn as nn


def ema_update(target, online, m):
    for p, q in zip(target.parameters(), online.parameters()):
        p.data.mul_(m).add_(q.data, alpha=1 - m)


class MeanTeacher(nn.Module):
    def __init__(self):
        super().__init__()
        self.student = nn.Linear(8, 2)
        self.teacher = nn.Linear(8, 2)

    def update(self):
        ema_update(self.teacher, self.student, 0.99)

    def forward(self, x):
        return self.student(x) - self.teacher(x).detach()
""")
    assert "DPL003" in [code for _, code in found]


def test_knowledge_entries_name_their_source():
    tables = [tk.PARAMETER_FREE_EXTERNAL_MODULES, tk.TORCHVISION_BATCHNORM_MODELS, tk.TORCHVISION_OTHER_MODELS,
              tk.NO_GRADIENT_FUNCTIONS]
    for table in tables:
        assert all(isinstance(source, str) and source for source in table.values())
    assert all(source for _, source in tk.EXTERNAL_FREEZE_HELPERS.values())


TRAIN = """
import torch
import torchvision
from opacus import PrivacyEngine
from opacus.validators import ModuleValidator


def train(loader):
    model = {build}
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    return PrivacyEngine().make_private(module=model, optimizer=optimizer, data_loader=loader,
                                        noise_multiplier=1.0, max_grad_norm=1.0)
"""


def test_torchvision_resnet_handed_to_make_private_is_dpl101_at_the_call(tmp_path):
    assert lint_one(tmp_path, TRAIN.format(build="torchvision.models.resnet18(num_classes=10)")) == [(10, "DPL101")]


def test_torchvision_model_after_validator_fix_or_without_batchnorm_is_clean(tmp_path):
    for build in ("ModuleValidator.fix(torchvision.models.resnet18(num_classes=10))",
                  "torchvision.models.vit_b_16(num_classes=10)",
                  "torchvision.models.resnet18(norm_layer=lambda c: torch.nn.GroupNorm(8, c))"):
        assert lint_one(tmp_path, TRAIN.format(build=build)) == [], build


def test_validator_fix_table():
    assert tk.VALIDATOR_FIXES["BatchNorm1d"].replacement == "GroupNorm"
    assert tk.groupnorm_groups(48) == 16 and tk.groupnorm_groups(3) == 1
    attention = tk.VALIDATOR_FIXES["MultiheadAttention"]
    assert attention.replacement == "DPMultiheadAttention" and {"num_heads", "batch_first"} <= set(attention.kept)
    assert all(fix.source for fix in tk.VALIDATOR_FIXES.values())

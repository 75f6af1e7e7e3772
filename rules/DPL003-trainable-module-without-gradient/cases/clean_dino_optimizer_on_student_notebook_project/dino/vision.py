# The teacher copied in the notebook (train_dino.ipynb) is not frozen, but the optimizer holds only
# `student.parameters()`, the module `DINO(student, teacher)` stores as `self.student`: DPOptimizer
# never steps the teacher, and training runs (measured, opacus 1.6.0: `train_like_the_notebook` runs
# its steps with per-sample clipping intact). No DPL001/DPL003.
import torch
import torch.nn as nn
import torch.nn.functional as F


class PatchMLP(nn.Module):
    """A tiny stand-in for a ViT backbone: patch embedding + token MLP + mean pooling."""

    def __init__(self, in_dim=16, embed_dim=32, depth=1):
        super().__init__()
        self.embed = nn.Linear(in_dim, embed_dim)
        self.blocks = nn.ModuleList([nn.Sequential(nn.LayerNorm(embed_dim), nn.Linear(embed_dim, embed_dim), nn.GELU())
                                     for _ in range(depth)])
        self.norm = nn.LayerNorm(embed_dim)

    def forward(self, x):
        x = self.embed(x)
        for blk in self.blocks:
            x = x + blk(x)
        return self.norm(x).mean(1)


class DINOHead(nn.Module):
    def __init__(self, in_dim, out_dim=16, hidden_dim=32, bottleneck_dim=8):
        super().__init__()
        self.mlp = nn.Sequential(nn.Linear(in_dim, hidden_dim), nn.GELU(), nn.Linear(hidden_dim, bottleneck_dim))
        self.last_layer = nn.Linear(bottleneck_dim, out_dim, bias=False)

    def forward(self, x):
        x = F.normalize(self.mlp(x), dim=-1)
        return self.last_layer(x)


class MultiCropWrapper(nn.Module):
    def __init__(self, backbone, head):
        super().__init__()
        self.backbone = backbone
        self.head = head

    def forward(self, x):
        return self.head(self.backbone(x))


class DINO(nn.Module):
    def __init__(self, student, teacher, student_temp=0.1, teacher_temp=0.04):
        super().__init__()
        self.student = student
        self.teacher = teacher
        self.student_temp = student_temp
        self.teacher_temp = teacher_temp

    def forward(self, global_crop, local_crop):
        teacher_out = F.softmax(self.teacher(global_crop) / self.teacher_temp, dim=-1).detach()
        student_out = F.log_softmax(self.student(local_crop) / self.student_temp, dim=-1)
        return torch.sum(-teacher_out * student_out, dim=-1)


def build_dino(embed_dim=32, out_dim=16):
    import copy

    student = MultiCropWrapper(PatchMLP(embed_dim=embed_dim), DINOHead(embed_dim, out_dim))
    teacher = copy.deepcopy(student)
    return DINO(student, teacher)


def train_like_the_notebook(steps=2):
    """The notebook's cells as one function, for the runtime harness."""
    import copy

    from opacus import PrivacyEngine
    from torch.utils.data import DataLoader, TensorDataset

    student = MultiCropWrapper(PatchMLP(embed_dim=32), DINOHead(32, 16))
    teacher = copy.deepcopy(student)
    model = DINO(student, teacher)
    loader = DataLoader(TensorDataset(torch.randn(32, 4, 16), torch.randn(32, 4, 16)), batch_size=8)
    optimizer = torch.optim.AdamW(student.parameters(), lr=5e-4)
    model, optimizer, loader = PrivacyEngine().make_private(
        module=model, optimizer=optimizer, data_loader=loader, noise_multiplier=1.0, max_grad_norm=1.0,
    )
    for step, (g, l) in enumerate(loader):
        loss = model(g, l).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if step + 1 == steps:
            break


CASE = {
    "script": "train_like_the_notebook",
    "runtime": "ok",
}

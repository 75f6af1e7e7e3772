# Clean twin of flag_dino_teacher_not_frozen_notebook_project: the notebook freezes the copied teacher
# (`p.requires_grad = False` over `teacher.parameters()`) before `DINO(student, teacher)`; the
# teacher's detached output is then harmless (measured, opacus 1.6.0: exact per-sample gradients).
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
    for p in teacher.parameters():
        p.requires_grad = False
    return DINO(student, teacher)


CASE = {
    "model": "build_dino",
    "inputs": ["float[B, 4, 16]", "float[B, 4, 16]"],
    "runtime": "ok",
}

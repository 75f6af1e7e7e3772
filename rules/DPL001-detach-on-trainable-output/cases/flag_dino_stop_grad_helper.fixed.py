# Mirrors DINO (Caron et al., 2021): a student and a teacher of the same architecture, the
# teacher's output centred and sharpened. The teacher output goes through a project helper that
# detaches it, and the teacher was built as a fresh module whose parameters were never frozen:
# they get no per-sample gradient and DPOptimizer.step() raises "Per sample gradient is not
# initialized". Fix: freeze the teacher (DINO does `p.requires_grad = False`) or run it under
# `torch.no_grad()` after freezing.
import torch
import torch.nn as nn
import torch.nn.functional as F


def stop_gradient(t):
    return t.detach()


class DINOHead(nn.Module):
    def __init__(self, in_dim, hidden_dim=16, bottleneck_dim=8, out_dim=32):
        super().__init__()
        self.mlp = nn.Sequential(
            nn.Linear(in_dim, hidden_dim),
            nn.GELU(),
            nn.Linear(hidden_dim, bottleneck_dim),
        )
        self.last_layer = nn.Linear(bottleneck_dim, out_dim, bias=False)

    def forward(self, x):
        x = F.normalize(self.mlp(x), dim=-1)
        return self.last_layer(x)


class Backbone(nn.Module):
    def __init__(self, in_dim=24, embed_dim=16):
        super().__init__()
        self.proj = nn.Linear(in_dim, embed_dim)
        self.norm = nn.LayerNorm(embed_dim)

    def forward(self, x):
        return self.norm(F.gelu(self.proj(x)))


class MultiCropWrapper(nn.Module):
    def __init__(self, backbone, head):
        super().__init__()
        self.backbone = backbone
        self.head = head

    def forward(self, x):
        return self.head(self.backbone(x))


class DINO(nn.Module):
    def __init__(self, student_temp=0.1, teacher_temp=0.04):
        super().__init__()
        self.student = MultiCropWrapper(Backbone(), DINOHead(16))
        self.teacher = MultiCropWrapper(Backbone(), DINOHead(16))  # expect: DPL003
        self.teacher.requires_grad_(False)
        self.register_buffer("center", torch.zeros(1, 32))
        self.student_temp = student_temp
        self.teacher_temp = teacher_temp

    def forward(self, global_crop, local_crop):
        with torch.no_grad():
            teacher_out = stop_gradient(self.teacher(global_crop))  # expect: DPL001
        targets = F.softmax((teacher_out - self.center) / self.teacher_temp, dim=-1)
        loss = 0
        for crop in (global_crop, local_crop):
            logits = self.student(crop) / self.student_temp
            loss = loss - (targets * F.log_softmax(logits, dim=-1)).sum(dim=-1)
        return loss / 2


CASE = {
    "model": "DINO",
    "inputs": ["float[B, 24]", "float[B, 24]"],
    "runtime": "crash",
    "error": "Per sample gradient is not initialized",
}

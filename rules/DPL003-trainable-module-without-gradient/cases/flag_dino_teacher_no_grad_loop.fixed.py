# Mirrors DINO (Caron et al., 2021) with the teacher run under `torch.no_grad()` over the global
# crops, but without DINO's `p.requires_grad = False` on the teacher. The teacher's parameters are
# trainable and in the optimizer, the no_grad calls are invisible to Opacus' hooks, and they never
# get per-sample gradients: DPOptimizer.step() raises "Per sample gradient is not initialized".
# Fix: freeze the teacher after building it.
import torch
import torch.nn as nn
import torch.nn.functional as F


class ProjectionHead(nn.Module):
    def __init__(self, in_dim=16, hidden=16, out_dim=32):
        super().__init__()
        self.layers = nn.Sequential(nn.Linear(in_dim, hidden), nn.GELU(), nn.Linear(hidden, out_dim))

    def forward(self, x):
        return self.layers(x)


class MultiCropWrapper(nn.Module):
    def __init__(self, in_dim=24, embed_dim=16):
        super().__init__()
        self.backbone = nn.Sequential(nn.Linear(in_dim, embed_dim), nn.GELU(), nn.LayerNorm(embed_dim))
        self.head = ProjectionHead(embed_dim)

    def forward(self, x):
        return self.head(self.backbone(x))


class DINO(nn.Module):
    def __init__(self, student_temp=0.1, teacher_temp=0.04):
        super().__init__()
        self.student = MultiCropWrapper()
        self.teacher = MultiCropWrapper()  # expect: DPL003
        self.teacher.requires_grad_(False)
        self.teacher.load_state_dict(self.student.state_dict())
        self.register_buffer("center", torch.zeros(1, 32))
        self.student_temp, self.teacher_temp = student_temp, teacher_temp

    def forward(self, global_1, global_2, local_1):
        teacher_targets = []
        for crop in (global_1, global_2):
            with torch.no_grad():
                t = self.teacher(crop)
            teacher_targets.append(F.softmax((t - self.center) / self.teacher_temp, dim=-1))
        loss, n_terms = 0.0, 0
        for iq, q in enumerate(teacher_targets):
            for iv, crop in enumerate((global_1, global_2, local_1)):
                if iv == iq:
                    continue
                s = F.log_softmax(self.student(crop) / self.student_temp, dim=-1)
                loss = loss + torch.sum(-q * s, dim=-1)
                n_terms += 1
        return loss / n_terms


CASE = {
    "model": "DINO",
    "inputs": ["float[B, 24]", "float[B, 24]", "float[B, 24]"],
    "runtime": "crash",
    "error": "Per sample gradient is not initialized",
}

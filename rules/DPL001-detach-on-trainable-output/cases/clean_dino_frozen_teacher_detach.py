# Mirrors DINO (Caron et al., 2021) as released: the teacher starts as a copy of the student and
# "there is no backpropagation through the teacher" (`p.requires_grad = False` for each
# parameter); the loss detaches the teacher output and centres it with a buffer. The teacher runs
# with grad enabled but is frozen, so Opacus ignores it; the student, called on every crop, gets
# exact per-sample gradients.
import copy

import torch
import torch.nn as nn
import torch.nn.functional as F


class DINOHead(nn.Module):
    def __init__(self, in_dim, hidden_dim=16, bottleneck_dim=8, out_dim=32):
        super().__init__()
        self.mlp = nn.Sequential(nn.Linear(in_dim, hidden_dim), nn.GELU(), nn.Linear(hidden_dim, bottleneck_dim))
        self.last_layer = nn.Linear(bottleneck_dim, out_dim, bias=False)

    def forward(self, x):
        return self.last_layer(F.normalize(self.mlp(x), dim=-1, p=2))


class Student(nn.Module):
    def __init__(self, in_dim=24, embed_dim=16):
        super().__init__()
        self.backbone = nn.Sequential(nn.Linear(in_dim, embed_dim), nn.GELU(), nn.LayerNorm(embed_dim))
        self.head = DINOHead(embed_dim)

    def forward(self, x):
        return self.head(self.backbone(x))


class DINO(nn.Module):
    def __init__(self, out_dim=32, student_temp=0.1, teacher_temp=0.04):
        super().__init__()
        self.student = Student()
        self.teacher = copy.deepcopy(self.student)
        for p in self.teacher.parameters():
            p.requires_grad = False
        self.register_buffer("center", torch.zeros(1, out_dim))
        self.student_temp, self.teacher_temp = student_temp, teacher_temp

    def dino_loss(self, student_out, teacher_out):
        teacher_probs = F.softmax((teacher_out.detach() - self.center) / self.teacher_temp, dim=-1)
        total = 0
        for s in student_out:
            total = total + torch.sum(-teacher_probs * F.log_softmax(s / self.student_temp, dim=-1), dim=-1)
        return total / len(student_out)

    def forward(self, global_crop, local_crop):
        teacher_out = self.teacher(global_crop)
        student_out = [self.student(crop) for crop in (global_crop, local_crop)]
        return self.dino_loss(student_out, teacher_out)


CASE = {
    "model": "DINO",
    "inputs": ["float[B, 24]", "float[B, 24]"],
    "runtime": "ok",
}

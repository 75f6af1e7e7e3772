# Mirrors a semi-supervised project with two DP training scripts. Mean Teacher's EMA teacher is a
# deep copy of the student that is never frozen and only called under `torch.no_grad()`: Opacus'
# hooks skip that call, its trainable parameters never get a per-sample gradient and
# DPOptimizer.step() raises "Per sample gradient is not initialized". The distillation script's
# `distill.teacher.requires_grad_(False)` freezes the teacher of a `Distill` (the receiver is known
# to be one), not Mean Teacher's. Fix: `self.teacher.requires_grad_(False)` after the copy.
import copy

import torch
import torch.nn as nn
import torch.nn.functional as F


class MeanTeacher(nn.Module):
    def __init__(self, in_dim=20, hidden=16, num_classes=5):
        super().__init__()
        self.student = nn.Sequential(nn.Linear(in_dim, hidden), nn.GELU(), nn.Linear(hidden, num_classes))
        self.teacher = copy.deepcopy(self.student)  # expect: DPL003
        self.teacher.requires_grad_(False)

    def forward(self, x_weak, x_strong):
        logits = self.student(x_strong)
        with torch.no_grad():
            targets = F.softmax(self.teacher(x_weak), dim=-1)
        return (F.softmax(logits, dim=-1) - targets).pow(2).sum(-1)


CASE = {
    "model": "MeanTeacher",
    "inputs": ["float[B, 20]", "float[B, 20]"],
    "runtime": "crash",
    "error": "Per sample gradient is not initialized",
}

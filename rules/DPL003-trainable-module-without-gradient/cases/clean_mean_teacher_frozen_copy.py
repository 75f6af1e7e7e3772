# Mirrors Mean Teacher (Tarvainen & Valpola, 2017) with the EMA teacher frozen where it is
# created (`copy.deepcopy(...).requires_grad_(False)`, as in timm's ModelEmaV2-style helpers). The
# teacher is only called under `torch.no_grad()`, but it owns no trainable parameter, so
# DPOptimizer has nothing to complain about and the student's per-sample gradients are exact.
import copy

import torch
import torch.nn as nn
import torch.nn.functional as F


class MLPClassifier(nn.Module):
    def __init__(self, in_dim=20, hidden=16, num_classes=5):
        super().__init__()
        self.fc1 = nn.Linear(in_dim, hidden)
        self.fc2 = nn.Linear(hidden, num_classes)

    def forward(self, x):
        return self.fc2(F.gelu(self.fc1(x)))


class MeanTeacher(nn.Module):
    def __init__(self, ema_decay=0.99):
        super().__init__()
        self.student = MLPClassifier()
        self.ema_model = copy.deepcopy(self.student).requires_grad_(False)
        self.ema_decay = ema_decay

    @torch.no_grad()
    def update_ema(self):
        for ema_p, p in zip(self.ema_model.parameters(), self.student.parameters()):
            ema_p.mul_(self.ema_decay).add_(p, alpha=1 - self.ema_decay)

    def forward(self, x_weak, x_strong, labels):
        logits = self.student(x_strong)
        with torch.no_grad():
            teacher_probs = F.softmax(self.ema_model(x_weak), dim=-1)
        consistency = (F.softmax(logits, dim=-1) - teacher_probs).pow(2).sum(-1)
        return F.cross_entropy(logits, labels, reduction="none") + consistency


CASE = {
    "model": "MeanTeacher",
    "inputs": ["float[B, 20]", "float[B, 20]", "long[B] < 5"],
    "runtime": "ok",
}

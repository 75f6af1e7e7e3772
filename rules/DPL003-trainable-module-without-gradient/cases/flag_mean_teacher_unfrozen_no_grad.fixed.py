# Mirrors Mean Teacher (Tarvainen & Valpola, 2017): a student classifier and an EMA teacher that
# produces consistency targets under `torch.no_grad()`. The teacher is a deep copy that was never
# frozen, so `model.parameters()` hands its trainable parameters to the optimizer; the no_grad call
# is skipped by Opacus' hooks and they never get a per-sample gradient: DPOptimizer.step() raises
# "Per sample gradient is not initialized". In ordinary training nothing visible happens because
# the teacher never had a gradient anyway. Fix: `self.ema_model.requires_grad_(False)`.
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
        self.ema_model = copy.deepcopy(self.student)  # expect: DPL003
        self.ema_model.requires_grad_(False)
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
    "runtime": "crash",
    "error": "Per sample gradient is not initialized",
}

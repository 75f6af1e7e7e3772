"""Mean teacher: an EMA copy of the student gives the consistency targets.

The teacher is only ever called under `torch.no_grad()` but was never frozen: its
parameters still require grad and sit in the optimizer with no per-sample gradient, so
`optimizer.step()` raises `ValueError: Per sample gradient is not initialized`.
"""
import copy

import torch
import torch.nn as nn
import torch.nn.functional as F


class MeanTeacher(nn.Module):
    def __init__(self, in_dim: int = 20, num_classes: int = 5, ema: float = 0.99):
        super().__init__()
        self.ema = ema
        self.student = nn.Sequential(nn.Linear(in_dim, 32), nn.ReLU(), nn.Linear(32, num_classes))
        self.teacher = copy.deepcopy(self.student)

    @torch.no_grad()
    def update_teacher(self) -> None:
        for s, t in zip(self.student.parameters(), self.teacher.parameters()):
            t.mul_(self.ema).add_(s, alpha=1 - self.ema)

    def forward(self, x: torch.Tensor, x_aug: torch.Tensor) -> torch.Tensor:
        logits = self.student(x)
        with torch.no_grad():
            targets = F.softmax(self.teacher(x_aug), dim=-1)
        return F.kl_div(F.log_softmax(logits, dim=-1), targets, reduction="none").sum(-1)

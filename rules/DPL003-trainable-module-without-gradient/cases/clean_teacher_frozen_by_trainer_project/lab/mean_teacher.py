# Part of the multi-file case (see train.py): Mean Teacher, whose EMA teacher is a deep copy of the
# student called only under `torch.no_grad()`; the model itself does not freeze it.
import copy

import torch
import torch.nn as nn
import torch.nn.functional as F


class MeanTeacher(nn.Module):
    def __init__(self, in_dim=20, hidden=16, num_classes=5):
        super().__init__()
        self.student = nn.Sequential(nn.Linear(in_dim, hidden), nn.GELU(), nn.Linear(hidden, num_classes))
        self.teacher = copy.deepcopy(self.student)

    def forward(self, x_weak, x_strong):
        logits = self.student(x_strong)
        with torch.no_grad():
            targets = F.softmax(self.teacher(x_weak), dim=-1)
        return (F.softmax(logits, dim=-1) - targets).pow(2).sum(-1)

# Part of the multi-file case (see byol.py): an unrelated model whose own `target` is frozen.
import torch
import torch.nn as nn


class Distiller(nn.Module):
    def __init__(self, teacher, dim=16):
        super().__init__()
        self.student = nn.Linear(dim, dim)
        self.target = teacher
        self.target.requires_grad_(False)

    def forward(self, x):
        with torch.no_grad():
            soft = self.target(x)
        return (self.student(x) - soft).pow(2).mean(-1)

# Part of the multi-file case (see train.py): an unrelated distillation model with a trainable
# `target` of its own (nothing freezes it, and it gets its gradient in forward).
import torch.nn as nn


class Distiller(nn.Module):
    def __init__(self, dim=16):
        super().__init__()
        self.student = nn.Linear(dim, dim)
        self.target = nn.Linear(dim, dim)

    def forward(self, x):
        return (self.student(x) - self.target(x)).pow(2).mean(-1)

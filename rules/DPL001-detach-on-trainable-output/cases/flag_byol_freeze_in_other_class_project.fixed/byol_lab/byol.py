# Mirrors a self-supervised project whose package holds both a BYOL model and a distillation
# model (distill.py). BYOL's target network is a deep copy of the online encoder that is never
# frozen: its output is only used through `.detach()`, so its trainable parameters never get a
# per-sample gradient and DPOptimizer.step() raises "Per sample gradient is not initialized".
# The distiller's `self.target.requires_grad_(False)` freezes the distiller's own teacher, not
# BYOL's target: a freeze applies to the object it reaches, never to an attribute of the same name
# in another class. Fix: `self.target.requires_grad_(False)` after the copy.
import copy

import torch.nn as nn
import torch.nn.functional as F
import torch


class BYOL(nn.Module):
    def __init__(self, dim=16, hidden=32):
        super().__init__()
        self.online = nn.Sequential(nn.Linear(dim, hidden), nn.ReLU(), nn.Linear(hidden, dim))
        self.predictor = nn.Sequential(nn.Linear(dim, hidden), nn.ReLU(), nn.Linear(hidden, dim))
        self.target = copy.deepcopy(self.online)  # expect: DPL003
        self.target.requires_grad_(False)

    def forward(self, x1, x2):
        p = self.predictor(self.online(x1))
        with torch.no_grad():
            t = self.target(x2)  # expect: DPL001
        return 2 - 2 * F.cosine_similarity(p, t, dim=-1)


CASE = {
    "model": "BYOL",
    "inputs": ["float[B, 16]", "float[B, 16]"],
    "runtime": "crash",
    "error": "Per sample gradient is not initialized",
}

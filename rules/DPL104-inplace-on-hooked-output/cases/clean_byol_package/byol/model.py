# BYOL (Grill et al., 2020) with a frozen target network (as DP training needs: it gets no
# gradient), run under no_grad and scaled in place (`t.mul_(2.0)`): the frozen target's output is
# not hooked, and the projector helper (heads.py) uses out-of-place activations.
# Measured on Opacus 1.6.0: trains, per-sample gradients exact. Not a DPL104 finding.
import copy

import torch
import torch.nn as nn
import torch.nn.functional as F

from byol.heads import mlp


class BYOL(nn.Module):
    def __init__(self, in_dim=16, dim=8):
        super().__init__()
        self.online = mlp(in_dim, 16, dim)
        self.predictor = mlp(dim, 16, dim)
        self.target = copy.deepcopy(self.online)
        self.target.requires_grad_(False)

    def forward(self, x1, x2):
        p = F.normalize(self.predictor(self.online(x1)), dim=1)
        with torch.no_grad():
            t = self.target(x2)
            t.mul_(2.0)
            t = F.normalize(t, dim=1)
        per_sample = 2 - 2 * (p * t).sum(dim=1)
        return per_sample


CASE = {
    "model": "BYOL",
    "inputs": ["float[B, 16]", "float[B, 16]"],
    "runtime": "ok",
}

# Mirrors BYOL (Grill et al., 2020): the target network is a deep copy of the online encoder and
# projector, updated by EMA outside of backprop. Here its output is only `.detach()`ed and the copy
# was never frozen, so its parameters sit in the optimizer without any per-sample gradient:
# DPOptimizer.step() raises "Per sample gradient is not initialized".
# Fix: freeze the copies (`requires_grad_(False)`) or run them under `torch.no_grad()` and freeze.
import copy

import torch
from torch import nn
import torch.nn.functional as F


def mlp(in_dim, hidden, out_dim):
    return nn.Sequential(nn.Linear(in_dim, hidden), nn.GELU(), nn.Linear(hidden, out_dim))


class BYOL(nn.Module):
    def __init__(self, in_dim=32, hidden=16, proj_dim=8):
        super().__init__()
        self.online_encoder = nn.Sequential(nn.Linear(in_dim, hidden), nn.GELU())
        self.online_projector = mlp(hidden, hidden, proj_dim)
        self.predictor = mlp(proj_dim, hidden, proj_dim)
        self.target_encoder = copy.deepcopy(self.online_encoder)  # expect: DPL003
        self.target_encoder.requires_grad_(False)
        self.target_projector = copy.deepcopy(self.online_projector)  # expect: DPL003
        self.target_projector.requires_grad_(False)

    @torch.no_grad()
    def update_target(self, tau=0.99):
        online = list(self.online_encoder.parameters()) + list(self.online_projector.parameters())
        target = list(self.target_encoder.parameters()) + list(self.target_projector.parameters())
        for po, pt in zip(online, target):
            pt.mul_(tau).add_(po, alpha=1 - tau)

    def forward(self, view_one, view_two):
        online = self.predictor(self.online_projector(self.online_encoder(view_one)))
        with torch.no_grad():
            target = self.target_projector(self.target_encoder(view_two))  # expect: DPL001
        return 2 - 2 * F.cosine_similarity(online, target, dim=-1)


CASE = {
    "model": "BYOL",
    "inputs": ["float[B, 32]", "float[B, 32]"],
    "runtime": "crash",
    "error": "Per sample gradient is not initialized",
}

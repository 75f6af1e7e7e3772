# Mirrors BYOL (Grill et al., 2020) with the target network frozen right after it is copied:
# the target runs with grad enabled and its output is `.detach()`ed, but a frozen module owns no
# trainable parameter, so Opacus does not track it and the online network's per-sample gradients
# are exact. The EMA update of the target happens in the training loop.
import copy

import torch
from torch import nn
import torch.nn.functional as F


class MLP(nn.Module):
    def __init__(self, dim, hidden, out):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(dim, hidden), nn.GELU(), nn.Linear(hidden, out))

    def forward(self, x):
        return self.net(x)


class BYOL(nn.Module):
    def __init__(self, in_dim=32, hidden=16, proj=8):
        super().__init__()
        self.online = nn.Sequential(nn.Linear(in_dim, hidden), nn.GELU(), MLP(hidden, hidden, proj))
        self.predictor = MLP(proj, hidden, proj)
        self.target = copy.deepcopy(self.online)
        self.target.requires_grad_(False)

    @torch.no_grad()
    def update_moving_average(self, beta=0.99):
        for online_p, target_p in zip(self.online.parameters(), self.target.parameters()):
            target_p.data.mul_(beta).add_((1 - beta) * online_p.data)

    @staticmethod
    def regression_loss(p, z):
        return 2 - 2 * F.cosine_similarity(p, z, dim=-1)

    def forward(self, view1, view2):
        p1 = self.predictor(self.online(view1))
        p2 = self.predictor(self.online(view2))
        z1 = self.target(view1).detach()
        z2 = self.target(view2).detach()
        return self.regression_loss(p1, z2) + self.regression_loss(p2, z1)


CASE = {
    "model": "BYOL",
    "inputs": ["float[B, 32]", "float[B, 32]"],
    "runtime": "ok",
}

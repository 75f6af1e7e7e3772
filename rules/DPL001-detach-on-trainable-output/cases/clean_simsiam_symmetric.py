# Mirrors the canonical SimSiam (Chen & He, 2021): symmetric loss D(p1, z2)/2 + D(p2, z1)/2 with
# the stop-gradient on z. Each `z` is detached in the loss, but the same `z` also feeds the
# predictor with its gradient, so every encoder call receives a gradient and Opacus' counters
# balance: per-sample gradients are exact. Not a DPL001 finding.
import torch.nn as nn
import torch.nn.functional as F


def D(p, z):
    return -F.cosine_similarity(p, z.detach(), dim=-1)


class SimSiam(nn.Module):
    def __init__(self, in_dim=32, dim=16, pred_dim=8):
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(in_dim, dim), nn.GELU(), nn.Linear(dim, dim))
        self.predictor = nn.Sequential(nn.Linear(dim, pred_dim), nn.GELU(), nn.Linear(pred_dim, dim))

    def forward(self, x1, x2):
        z1 = self.encoder(x1)
        z2 = self.encoder(x2)
        p1 = self.predictor(z1)
        p2 = self.predictor(z2)
        return D(p1, z2) / 2 + D(p2, z1) / 2


CASE = {
    "model": "SimSiam",
    "inputs": ["float[B, 32]", "float[B, 32]"],
    "runtime": "ok",
}

# Mirrors SimSiam (Chen & He, 2021) written asymmetrically: the second view goes through the
# shared encoder and is detached on the spot. The encoder runs twice with grad enabled but only
# the first call receives a gradient, so Opacus' per-parameter counter goes 2 -> 1, grad_sample
# is never published, and DPOptimizer.step() raises "Per sample gradient is not initialized".
# Fix: `with torch.no_grad(): z2 = self.encoder(x2)`.
import torch.nn as nn
import torch.nn.functional as F
import torch


class SimSiam(nn.Module):
    def __init__(self, in_dim=32, dim=16, pred_dim=8):
        super().__init__()
        self.encoder = nn.Sequential(
            nn.Linear(in_dim, dim),
            nn.GELU(),
            nn.Linear(dim, dim),
        )
        self.predictor = nn.Sequential(nn.Linear(dim, pred_dim), nn.GELU(), nn.Linear(pred_dim, dim))

    def forward(self, x1, x2):
        z1 = self.encoder(x1)
        with torch.no_grad():
            z2 = self.encoder(x2)  # expect: DPL001
        p1 = self.predictor(z1)
        return -F.cosine_similarity(p1, z2, dim=-1)


CASE = {
    "model": "SimSiam",
    "inputs": ["float[B, 32]", "float[B, 32]"],
    "runtime": "crash",
    "error": "Per sample gradient is not initialized",
}

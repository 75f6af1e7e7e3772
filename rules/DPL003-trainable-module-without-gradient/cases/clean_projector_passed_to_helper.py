# Mirrors a VICReg/Barlow Twins-style joint-embedding model (Bardes et al., 2022) whose branches
# are computed by a project helper function that receives the modules as arguments. The expander
# is never called as `self.expander(...)` in forward but it is called (with grad) inside the
# helper, so every trainable module gets a gradient: per-sample gradients are exact. (The
# variance/covariance terms, which mix the batch, are computed outside of the model.)
import torch.nn as nn


def embed(backbone, expander, x):
    return expander(backbone(x))


class VICReg(nn.Module):
    def __init__(self, in_dim=32, feat_dim=16, expander_dim=24):
        super().__init__()
        self.backbone = nn.Sequential(nn.Linear(in_dim, feat_dim), nn.GELU())
        self.expander = nn.Sequential(
            nn.Linear(feat_dim, expander_dim),
            nn.LayerNorm(expander_dim),
            nn.GELU(),
            nn.Linear(expander_dim, expander_dim),
        )

    def forward(self, x, y):
        z_x = embed(self.backbone, self.expander, x)
        z_y = embed(self.backbone, self.expander, y)
        invariance = (z_x - z_y).pow(2).mean(dim=-1)
        return invariance, z_x, z_y


CASE = {
    "model": "VICReg",
    "inputs": ["float[B, 32]", "float[B, 32]"],
    "runtime": "ok",
}

# Mirrors SwAV's multi-prototype heads (Caron et al., 2020, `MultiPrototypes`): several prototype
# layers, here held in an nn.ModuleList and all called in a loop, with per-sample soft codes in place of
# Sinkhorn (which normalises over the batch). Every head is called with grad enabled, so every
# trainable parameter gets a gradient: per-sample gradients are exact.
import torch
import torch.nn as nn
import torch.nn.functional as F


class SwAV(nn.Module):
    def __init__(self, in_dim=32, hidden=24, feat_dim=16, nmb_prototypes=(12, 20), temperature=0.1):
        super().__init__()
        self.backbone = nn.Sequential(nn.Linear(in_dim, hidden), nn.GELU())
        self.projection_head = nn.Sequential(nn.Linear(hidden, feat_dim))
        self.heads = nn.ModuleList([nn.Linear(feat_dim, k, bias=False) for k in nmb_prototypes])
        self.temperature = temperature

    def forward(self, x1, x2):
        z1 = F.normalize(self.projection_head(self.backbone(x1)), dim=1)
        z2 = F.normalize(self.projection_head(self.backbone(x2)), dim=1)
        loss = torch.zeros(x1.shape[0])
        for head in self.heads:
            s1, s2 = head(z1), head(z2)
            q1, q2 = F.softmax(s1.detach() / 0.05, dim=-1), F.softmax(s2.detach() / 0.05, dim=-1)
            loss = loss - (q1 * F.log_softmax(s2 / self.temperature, dim=-1)).sum(-1)
            loss = loss - (q2 * F.log_softmax(s1 / self.temperature, dim=-1)).sum(-1)
        return loss


CASE = {
    "model": "SwAV",
    "inputs": ["float[B, 32]", "float[B, 32]"],
    "runtime": "ok",
}

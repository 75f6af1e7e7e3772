# Mirrors SwAV's swapped prediction (Caron et al., 2020), with per-sample soft codes instead of
# Sinkhorn (which normalises over the batch). The codes are computed by a second pass through the
# prototypes, stopped with `torch.Tensor.detach(...)`, instead of detaching the scores already
# computed. The prototypes run four times with grad enabled but only two calls get a gradient:
# Opacus' counter never reaches 0 and DPOptimizer.step() raises "Per sample gradient is not
# initialized". Fix: `q1 = self.codes(scores1.detach())`.
import torch
import torch.nn as nn
import torch.nn.functional as F


class SwAV(nn.Module):
    def __init__(self, in_dim=32, hidden=24, feat_dim=16, n_prototypes=20, temperature=0.1):
        super().__init__()
        self.backbone = nn.Sequential(nn.Linear(in_dim, hidden), nn.GELU())
        self.projection_head = nn.Sequential(nn.Linear(hidden, hidden), nn.GELU(), nn.Linear(hidden, feat_dim))
        self.prototypes = nn.Linear(feat_dim, n_prototypes, bias=False)
        self.temperature = temperature

    def embed(self, x):
        return F.normalize(self.projection_head(self.backbone(x)), dim=1, p=2)

    @staticmethod
    def codes(scores, eps=0.05):
        return F.softmax(scores / eps, dim=-1)

    def forward(self, x1, x2):
        z1, z2 = self.embed(x1), self.embed(x2)
        scores1 = self.prototypes(z1)
        scores2 = self.prototypes(z2)
        with torch.no_grad():
            prototypes_out = self.prototypes(z1)
        q1 = self.codes(prototypes_out)  # expect: DPL001
        with torch.no_grad():
            prototypes_out = self.prototypes(z2)
        q2 = self.codes(prototypes_out)  # expect: DPL001
        loss12 = -(q1 * F.log_softmax(scores2 / self.temperature, dim=-1)).sum(-1)
        loss21 = -(q2 * F.log_softmax(scores1 / self.temperature, dim=-1)).sum(-1)
        return (loss12 + loss21) / 2


CASE = {
    "model": "SwAV",
    "inputs": ["float[B, 32]", "float[B, 32]"],
    "runtime": "crash",
    "error": "Per sample gradient is not initialized",
}

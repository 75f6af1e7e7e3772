# Mirrors SimSiam (Chen & He, 2021) with the stop-gradient written as a project helper and the
# branch computation in a `self` helper method. The helper detaches `z`, but each `z` also feeds
# the predictor with its gradient (symmetric loss), so every backbone/projector call gets a
# gradient and Opacus' per-sample gradients are exact.
import torch
from torch import nn
import torch.nn.functional as F


def stop_grad(t: torch.Tensor) -> torch.Tensor:
    return t.detach()


class SimSiam(nn.Module):
    def __init__(self, in_dim=32, feat_dim=24, proj_dim=16, pred_dim=8):
        super().__init__()
        self.backbone = nn.Sequential(nn.Linear(in_dim, feat_dim), nn.GELU())
        self.projector = nn.Sequential(nn.Linear(feat_dim, proj_dim), nn.GELU(), nn.Linear(proj_dim, proj_dim))
        self.predictor = nn.Sequential(nn.Linear(proj_dim, pred_dim), nn.GELU(), nn.Linear(pred_dim, proj_dim))

    def _branch(self, x):
        z = self.projector(self.backbone(x))
        return z, self.predictor(z)

    def forward(self, x1, x2):
        z1, p1 = self._branch(x1)
        z2, p2 = self._branch(x2)
        loss = -(F.cosine_similarity(p1, stop_grad(z2), dim=-1) + F.cosine_similarity(p2, stop_grad(z1), dim=-1))
        return loss * 0.5


CASE = {
    "model": "SimSiam",
    "inputs": ["float[B, 32]", "float[B, 32]"],
    "runtime": "ok",
}

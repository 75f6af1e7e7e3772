# Mirrors a SimSiam project (Chen & He, 2021) split over several files with the canonical
# symmetric loss: the loss module's `stopgrad` helper detaches each projection, but each projection
# also feeds the predictor with its gradient. Every backbone/projector call gets a gradient, so
# Opacus' per-sample gradients are exact: not a DPL001 finding.
from torch import nn

from selfsup.losses import symmetric_negative_cosine
from selfsup.models.backbones import TinyConvNet


class SimSiam(nn.Module):
    def __init__(self, dim=16, pred_dim=8):
        super().__init__()
        self.backbone = TinyConvNet()
        self.projector = nn.Sequential(
            nn.Linear(self.backbone.out_dim, dim), nn.GELU(), nn.Linear(dim, dim)
        )
        self.predictor = nn.Sequential(nn.Linear(dim, pred_dim), nn.GELU(), nn.Linear(pred_dim, dim))

    def forward(self, x1, x2):
        z1 = self.projector(self.backbone(x1))
        z2 = self.projector(self.backbone(x2))
        p1, p2 = self.predictor(z1), self.predictor(z2)
        return symmetric_negative_cosine(p1, p2, z1, z2)


CASE = {
    "model": "SimSiam",
    "inputs": ["float[B, 3, 8, 8]", "float[B, 3, 8, 8]"],
    "runtime": "ok",
}

# Mirrors a SimSiam project (Chen & He, 2021) split over several files, trained with the
# asymmetric loss only: the second view's projection is passed through the project's
# `stop_gradient` helper and nothing else uses it. The backbone and projector run twice with grad
# enabled but only once receive a gradient: Opacus' counters stop at 1 and DPOptimizer.step()
# raises "Per sample gradient is not initialized". Fix: compute `z2` under `torch.no_grad()`, or
# use the symmetric loss so that `z2` also feeds the predictor.
import torch.nn as nn

from simsiam.heads import prediction_mlp, projection_mlp
from simsiam.ops import negative_cosine, stop_gradient
import torch


class SimSiam(nn.Module):
    def __init__(self, in_channels=3, width=8, dim=16, pred_dim=8):
        super().__init__()
        self.backbone = nn.Sequential(
            nn.Conv2d(in_channels, width, kernel_size=3, stride=2, padding=1),
            nn.GELU(),
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
        )
        self.projector = projection_mlp(width, dim)
        self.predictor = prediction_mlp(dim, pred_dim)

    def forward(self, x1, x2):
        p1 = self.predictor(self.projector(self.backbone(x1)))
        with torch.no_grad():
            z2 = self.projector(self.backbone(x2))
        return negative_cosine(p1, stop_gradient(z2))  # expect: DPL001


CASE = {
    "model": "SimSiam",
    "inputs": ["float[B, 3, 8, 8]", "float[B, 3, 8, 8]"],
    "runtime": "crash",
    "error": "Per sample gradient is not initialized",
}

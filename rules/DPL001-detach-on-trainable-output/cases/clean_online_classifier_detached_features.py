# Mirrors solo-learn's online linear evaluation during Barlow Twins pretraining (Zbontar et al.,
# 2021): the classifier is trained on `feats.detach()` so that its loss does not shape the
# backbone. The backbone's output also reaches the projector with its gradient and the classifier
# itself is called with gradient, so every trainable call gets one: per-sample gradients are exact.
# (The cross-correlation loss, which mixes the batch, is computed outside of the model.)
from torch import nn


class BarlowTwins(nn.Module):
    def __init__(self, in_dim=32, feat_dim=16, proj_dim=24, num_classes=10):
        super().__init__()
        self.backbone = nn.Sequential(nn.Linear(in_dim, feat_dim), nn.GELU(), nn.Linear(feat_dim, feat_dim))
        self.projector = nn.Sequential(
            nn.Linear(feat_dim, proj_dim),
            nn.LayerNorm(proj_dim),
            nn.GELU(),
            nn.Linear(proj_dim, proj_dim),
        )
        self.classifier = nn.Linear(feat_dim, num_classes)

    def forward(self, x):
        feats = self.backbone(x)
        z = self.projector(feats)
        logits = self.classifier(feats.detach())
        return {"z": z, "feats": feats, "logits": logits}


CASE = {
    "model": "BarlowTwins",
    "inputs": ["float[B, 32]"],
    "runtime": "ok",
}

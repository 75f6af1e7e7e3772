# Mirrors SimSiam pretraining with an online linear probe for monitoring (as in solo-learn and
# lightly's benchmarks), where the whole probe, classifier included, was put under
# `torch.no_grad()` to keep it from shaping the backbone. The classifier never gets a gradient, so
# its trainable parameters have no per-sample gradient at DPOptimizer.step(): "Per sample gradient
# is not initialized". Fix: only the backbone features belong under no_grad (or detach them); call
# the classifier with grad enabled.
import torch
import torch.nn as nn
import torch.nn.functional as F


class SimSiamWithProbe(nn.Module):
    def __init__(self, in_dim=32, feat_dim=16, pred_dim=8, num_classes=10):
        super().__init__()
        self.backbone = nn.Sequential(nn.Linear(in_dim, feat_dim), nn.GELU(), nn.Linear(feat_dim, feat_dim))
        self.predictor = nn.Sequential(nn.Linear(feat_dim, pred_dim), nn.GELU(), nn.Linear(pred_dim, feat_dim))
        self.linear_probe = nn.Linear(feat_dim, num_classes)  # expect: DPL003
        self.linear_probe.requires_grad_(False)

    def forward(self, x1, x2, labels):
        z1, z2 = self.backbone(x1), self.backbone(x2)
        p1, p2 = self.predictor(z1), self.predictor(z2)
        ssl = -0.5 * (F.cosine_similarity(p1, z2.detach(), dim=-1) + F.cosine_similarity(p2, z1.detach(), dim=-1))
        with torch.no_grad():
            probe_logits = self.linear_probe(self.backbone(x1))
            probe_loss = F.cross_entropy(probe_logits, labels, reduction="none")
        return ssl + probe_loss


CASE = {
    "model": "SimSiamWithProbe",
    "inputs": ["float[B, 32]", "float[B, 32]", "long[B] < 10"],
    "runtime": "crash",
    "error": "Per sample gradient is not initialized",
}

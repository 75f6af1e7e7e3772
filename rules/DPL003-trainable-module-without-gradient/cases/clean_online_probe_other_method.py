# Mirrors solo-learn's layout for online linear evaluation during SimSiam pretraining: the SSL
# module's forward does not use the classifier; a separate `online_eval` method trains it on
# backbone features computed under `torch.no_grad()`, and the training step calls both. A module
# used in another method is not flagged (the training loop may call that method), and at run time
# the training step gives every trainable parameter exactly one gradient per call: per-sample
# gradients are exact. CASE runs the training-step module.
import torch
import torch.nn as nn
import torch.nn.functional as F


class SimSiam(nn.Module):
    def __init__(self, in_dim=32, feat_dim=16, pred_dim=8, num_classes=10):
        super().__init__()
        self.backbone = nn.Sequential(nn.Linear(in_dim, feat_dim), nn.GELU(), nn.Linear(feat_dim, feat_dim))
        self.predictor = nn.Sequential(nn.Linear(feat_dim, pred_dim), nn.GELU(), nn.Linear(pred_dim, feat_dim))
        self.classifier = nn.Linear(feat_dim, num_classes)

    def forward(self, x1, x2):
        z1, z2 = self.backbone(x1), self.backbone(x2)
        p1, p2 = self.predictor(z1), self.predictor(z2)
        return -0.5 * (F.cosine_similarity(p1, z2.detach(), dim=-1) + F.cosine_similarity(p2, z1.detach(), dim=-1))

    def online_eval(self, x, labels):
        with torch.no_grad():
            feats = self.backbone(x)
        return F.cross_entropy(self.classifier(feats), labels, reduction="none")


class PretrainStep(nn.Module):
    """What the training loop runs (and what make_private wraps)."""

    def __init__(self):
        super().__init__()
        self.ssl = SimSiam()

    def forward(self, x1, x2, labels):
        return self.ssl(x1, x2) + self.ssl.online_eval(x1, labels)


CASE = {
    "model": "PretrainStep",
    "inputs": ["float[B, 32]", "float[B, 32]", "long[B] < 10"],
    "runtime": "ok",
}

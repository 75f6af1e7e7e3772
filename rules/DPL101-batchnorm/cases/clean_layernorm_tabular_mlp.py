# Mirrors the DP-friendly tabular MLP: LayerNorm instead of BatchNorm1d. LayerNorm normalises
# each sample over its own features, so samples stay independent; make_private accepts it and
# per-sample gradients are exact.
import torch.nn as nn


class TabularMLP(nn.Module):
    def __init__(self, in_features=20, hidden=16, num_classes=2):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(in_features, hidden),
            nn.LayerNorm(hidden),
            nn.ReLU(),
            nn.Linear(hidden, num_classes),
        )

    def forward(self, x):
        return self.net(x)


CASE = {
    "model": "TabularMLP",
    "inputs": ["float[B, 20]"],
    "runtime": "ok",
}

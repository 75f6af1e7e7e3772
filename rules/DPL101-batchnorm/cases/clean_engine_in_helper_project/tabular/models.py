# Mirrors a tabular project with a shared training helper: `fit_private(model, loader)` calls
# make_private on whatever model it is given, and the script calls it as
# `fit_private(ResidualMLP(), loader)`. The DP model is ResidualMLP, which normalises with
# GroupNorm (per sample): Opacus computes exact per-sample gradients. The baseline keeps its
# BatchNorm1d, which is harmless: it goes through `fit`, never through make_private.
import torch.nn as nn


class ResidualMLP(nn.Module):
    def __init__(self, in_dim=20, hidden=32, num_classes=3):
        super().__init__()
        self.inp = nn.Linear(in_dim, hidden)
        self.block = nn.Sequential(
            nn.Linear(hidden, hidden),
            nn.GroupNorm(4, hidden),
            nn.ReLU(),
        )
        self.out = nn.Linear(hidden, num_classes)

    def forward(self, x):
        h = self.inp(x)
        return self.out(h + self.block(h))


class Baseline(nn.Module):
    def __init__(self, in_dim=20, num_classes=3):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(in_dim, 32), nn.BatchNorm1d(32), nn.ReLU(), nn.Linear(32, num_classes))

    def forward(self, x):
        return self.net(x)


CASE = {
    "model": "ResidualMLP",
    "inputs": ["float[B, 20]"],
    "runtime": "ok",
}

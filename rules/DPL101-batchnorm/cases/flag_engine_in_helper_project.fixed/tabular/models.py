# Mirrors a tabular project with a shared training helper: `fit_private(model, loader)` calls
# make_private on whatever model it is given, and the script calls it as
# `fit_private(ResidualMLP(), loader)`. The DP model is therefore ResidualMLP, whose BatchNorm1d
# mixes statistics across the samples of a batch: Opacus refuses it ("BatchNorm cannot support
# training with differential privacy"). The non-private baseline's BatchNorm is fine: it is
# trained without DP. Fix: `ModuleValidator.fix(model)` (GroupNorm) before make_private.
import torch.nn as nn


class ResidualMLP(nn.Module):
    def __init__(self, in_dim=20, hidden=32, num_classes=3):
        super().__init__()
        self.inp = nn.Linear(in_dim, hidden)
        self.block = nn.Sequential(
            nn.Linear(hidden, hidden),
            nn.GroupNorm(1, hidden),  # expect: DPL101
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
    "runtime": "crash",
    "error": "BatchNorm cannot support training with differential privacy",
}

# The other way out: `ModuleValidator.fix(model, num_groups=1)` turns every BatchNorm into
# GroupNorm(1, C), which normalises all C features of a sample together: the MLP's
# BatchNorm1d(16) on [B, 16] features trains.
from dataclasses import dataclass

import torch
import torch.nn as nn
from opacus import PrivacyEngine
from opacus.validators import ModuleValidator


@dataclass
class MLPConfig:
    in_features: int = 12
    hidden: int = 16
    num_classes: int = 3


class TabularMLP(nn.Module):
    def __init__(self, cfg: MLPConfig):
        super().__init__()
        self.fc1 = nn.Linear(cfg.in_features, cfg.hidden)
        self.bn1 = nn.BatchNorm1d(cfg.hidden)
        self.fc2 = nn.Linear(cfg.hidden, cfg.num_classes)

    def forward(self, x):
        h = self.fc1(x)
        h = torch.relu(self.bn1(h))
        return self.fc2(h)


def build():
    cfg = MLPConfig()
    return ModuleValidator.fix(TabularMLP(cfg), num_groups=1)


def fit(loader):
    model = build()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05)
    model, optimizer, loader = PrivacyEngine().make_private(
        module=model, optimizer=optimizer, data_loader=loader, noise_multiplier=1.0, max_grad_norm=1.0,
    )
    return model


CASE = {
    "model": "build",
    "inputs": ["float[B, 12]"],
    "runtime": "ok",
    "opacus": ">=1.5.3",  # before 1.5.3 ModuleValidator.fix fails on torch >= 2.6 (UnpicklingError)
}

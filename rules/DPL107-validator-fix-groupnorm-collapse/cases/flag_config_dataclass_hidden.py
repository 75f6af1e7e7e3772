# A tabular MLP configured by a dataclass; forward normalises the hidden layer by hand
# (`h = self.fc1(x)` then `self.bn1(h)`). With the default `hidden=8`, ModuleValidator.fix
# gives GroupNorm(8, 8) on [B, 8]: every feature is normalised alone and comes out as the bias.
from dataclasses import dataclass

import torch
import torch.nn as nn
from opacus import PrivacyEngine
from opacus.validators import ModuleValidator


@dataclass
class MLPConfig:
    in_features: int = 12
    hidden: int = 8
    num_classes: int = 3
    eps: float = 1e-5


class TabularMLP(nn.Module):
    def __init__(self, cfg: MLPConfig):
        super().__init__()
        self.fc1 = nn.Linear(cfg.in_features, cfg.hidden)
        self.bn1 = nn.BatchNorm1d(cfg.hidden, eps=cfg.eps)  # expect: DPL107
        self.fc2 = nn.Linear(cfg.hidden, cfg.num_classes)

    def forward(self, x):
        h = self.fc1(x)
        h = torch.relu(self.bn1(h))
        return self.fc2(h)


def build():
    cfg = MLPConfig()
    return ModuleValidator.fix(TabularMLP(cfg))


def fit(loader):
    model = build()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05)
    engine = PrivacyEngine(accountant="rdp")
    model, optimizer, loader = engine.make_private(
        module=model, optimizer=optimizer, data_loader=loader, noise_multiplier=1.0, max_grad_norm=1.0,
    )
    return model


CASE = {
    "model": "build",
    "inputs": ["float[B, 12]"],
    "runtime": "silent",  # GroupNorm(8, 8) on [B, 8]: constant output
    "opacus": ">=1.5.3",  # before 1.5.3 ModuleValidator.fix fails on torch >= 2.6 (UnpicklingError)
}

"""Hooks mode: the backbone is frozen *after* make_private (a linear probe decided late). The DP optimizer skips
parameters that do not require grad, and the head keeps its hooks: it trains (measured 1.4.1-1.6.0)."""

import torch
import torch.nn as nn
from opacus import PrivacyEngine
from torch.utils.data import DataLoader, TensorDataset


class Classifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.backbone = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 16), nn.ReLU())
        self.head = nn.Linear(16, 3)

    def forward(self, x):
        return self.head(self.backbone(x))


def data():
    generator = torch.Generator().manual_seed(0)
    return TensorDataset(torch.randn(32, 8, generator=generator), torch.randint(0, 3, (32,), generator=generator))


def main():
    model = Classifier()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    model, optimizer, loader = PrivacyEngine().make_private(
        module=model, optimizer=optimizer, data_loader=DataLoader(data(), batch_size=8),
        noise_multiplier=1.0, max_grad_norm=1.0,
    )
    for p in model._module.backbone.parameters():
        p.requires_grad = False
    for x, y in loader:
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()


CASE = {
    "script": "main",
    "runtime": "ok",
}

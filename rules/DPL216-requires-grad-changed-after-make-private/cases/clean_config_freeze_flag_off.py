"""The freeze before make_private runs only under `if cfg.freeze_backbone:` (False here); the later
`model.requires_grad_(True)` then changes nothing. dp-lint does not count a freeze it cannot be sure ran."""

from dataclasses import dataclass

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


@dataclass
class Config:
    freeze_backbone: bool = False
    lr: float = 0.05


def train(cfg: Config):
    model = Classifier()
    if cfg.freeze_backbone:
        model.backbone.requires_grad_(False)
    optimizer = torch.optim.SGD(model.parameters(), lr=cfg.lr)
    model, optimizer, loader = PrivacyEngine().make_private(
        module=model, optimizer=optimizer, data_loader=DataLoader(data(), batch_size=8),
        noise_multiplier=1.0, max_grad_norm=1.0,
    )
    model.requires_grad_(True)
    for x, y in loader:
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()


def main():
    train(Config())


CASE = {
    "script": "main",
    "runtime": "ok",
}

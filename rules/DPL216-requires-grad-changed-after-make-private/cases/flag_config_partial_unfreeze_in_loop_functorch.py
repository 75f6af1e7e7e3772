"""Settings in a config dataclass, functorch mode; the loop unfreezes the backbone's last layer (through the
GradSampleModule's `_module`) at every batch. It was frozen at make_private with the rest of the backbone, so it
has no per-sample gradients: the first step raises."""

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
    lr: float = 0.05
    batch_size: int = 8
    grad_sample_mode: str = "functorch"


def train(cfg: Config):
    model = Classifier()
    for p in model.backbone.parameters():
        p.requires_grad = False
    optimizer = torch.optim.SGD(model.parameters(), lr=cfg.lr)
    model, optimizer, loader = PrivacyEngine().make_private(
        module=model, optimizer=optimizer, data_loader=DataLoader(data(), batch_size=cfg.batch_size),
        noise_multiplier=1.0, max_grad_norm=1.0, grad_sample_mode="functorch",
    )
    for x, y in loader:
        model._module.backbone[2].requires_grad_(True)  # expect: DPL216
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()


def main():
    train(Config())


CASE = {
    "script": "main",
    "runtime": "crash",
    "error": "Per sample gradient is not initialized",
}

"""A ghost-mode classifier whose config picks, once, whether the projection adds a residual: `self.proj` is
written twice in `forward`, but in the two branches of one `if`, so each forward pass calls it once and training
runs."""

from dataclasses import dataclass

import torch
import torch.nn as nn
from opacus import PrivacyEngine
from torch.utils.data import DataLoader, TensorDataset


@dataclass
class Config:
    dim: int = 16
    classes: int = 3
    residual: bool = True
    grad_sample_mode: str = "ghost"


class ResidualClassifier(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.residual = cfg.residual
        self.proj = nn.Linear(cfg.dim, cfg.dim)
        self.head = nn.Linear(cfg.dim, cfg.classes)

    def forward(self, x):
        if self.residual:
            h = x + torch.relu(self.proj(x))
        else:
            h = torch.relu(self.proj(x))
        return self.head(h)


def main():
    cfg = Config()
    generator = torch.Generator().manual_seed(0)
    data = TensorDataset(torch.randn(32, cfg.dim, generator=generator),
                         torch.randint(0, cfg.classes, (32,), generator=generator))
    model = ResidualClassifier(cfg)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05)
    engine = PrivacyEngine()
    model, optimizer, criterion, loader = engine.make_private(
        module=model, optimizer=optimizer, data_loader=DataLoader(data, batch_size=8),
        criterion=nn.CrossEntropyLoss(), noise_multiplier=1.0, max_grad_norm=1.0,
        grad_sample_mode=cfg.grad_sample_mode,
    )
    for x, y in loader:
        optimizer.zero_grad()
        criterion(model(x), y).backward()
        optimizer.step()


CASE = {
    "opacus": ">=1.5.3",  # ghost clipping's criterion API
    "script": "main",
    "runtime": "ok",
}

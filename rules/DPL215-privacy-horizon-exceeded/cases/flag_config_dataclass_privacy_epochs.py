"""A config dataclass with two epoch counts: `epochs` (raised to 4 for a longer run) and `privacy_epochs` (still 2),
which the engine call reads. Four epochs run on noise calibrated for two."""

from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F
from opacus import PrivacyEngine
from torch.utils.data import DataLoader, TensorDataset


@dataclass
class Config:
    batch_size: int = 8
    lr: float = 1e-3
    epochs: int = 4
    privacy_epochs: int = 2
    target_epsilon: float = 3.0
    target_delta: float = 1e-5
    max_grad_norm: float = 1.0


def train(cfg: Config):
    generator = torch.Generator().manual_seed(0)
    dataset = TensorDataset(torch.randn(32, 12, generator=generator), torch.rand(32, generator=generator))
    model = nn.Sequential(nn.Linear(12, 16), nn.Tanh(), nn.Linear(16, 1), nn.Flatten(0))
    optimizer = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    engine = PrivacyEngine()
    model, optimizer, loader = engine.make_private_with_epsilon(
        module=model, optimizer=optimizer, data_loader=DataLoader(dataset, batch_size=cfg.batch_size),
        target_epsilon=cfg.target_epsilon, target_delta=cfg.target_delta, epochs=cfg.privacy_epochs,
        max_grad_norm=cfg.max_grad_norm,
    )
    for epoch in range(cfg.epochs):  # expect: DPL215
        model.train()
        for features, target in loader:
            optimizer.zero_grad()
            F.mse_loss(model(features), target).backward()
            optimizer.step()


def main():
    train(Config())


CASE = {
    "script": "main",
    "runtime": "silent",
    "violation": "budget",
}

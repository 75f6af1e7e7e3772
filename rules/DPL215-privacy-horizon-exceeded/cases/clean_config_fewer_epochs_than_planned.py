"""The loop runs fewer epochs (2) than `make_private_with_epsilon` planned (3): it spends less than the target,
which is allowed."""

from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F
from opacus import PrivacyEngine
from torch.utils.data import DataLoader, TensorDataset


@dataclass
class Config:
    epochs: int = 2
    privacy_epochs: int = 3
    target_epsilon: float = 3.0
    target_delta: float = 1e-5


def train(cfg: Config):
    generator = torch.Generator().manual_seed(0)
    dataset = TensorDataset(torch.randn(32, 12, generator=generator), torch.rand(32, generator=generator))
    model = nn.Sequential(nn.Linear(12, 16), nn.Tanh(), nn.Linear(16, 1), nn.Flatten(0))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    engine = PrivacyEngine()
    model, optimizer, loader = engine.make_private_with_epsilon(
        module=model, optimizer=optimizer, data_loader=DataLoader(dataset, batch_size=8),
        target_epsilon=cfg.target_epsilon, target_delta=cfg.target_delta, epochs=cfg.privacy_epochs,
        max_grad_norm=1.0,
    )
    for epoch in range(cfg.epochs):
        for features, target in loader:
            optimizer.zero_grad()
            F.mse_loss(model(features), target).backward()
            optimizer.step()


def main():
    train(Config())


CASE = {
    "script": "main",
    "runtime": "ok",
}

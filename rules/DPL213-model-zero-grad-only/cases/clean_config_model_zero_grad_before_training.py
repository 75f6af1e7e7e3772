"""`model.zero_grad()` once before the loop (a leftover of a gradient check) and `optimizer.zero_grad()` in
every step: the loop clears the DP optimizer's sums, and it trains."""

from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F
from opacus import PrivacyEngine
from torch.utils.data import DataLoader, TensorDataset


@dataclass
class Config:
    batch_size: int = 16
    lr: float = 1e-3
    epochs: int = 2


def train(cfg: Config):
    generator = torch.Generator().manual_seed(0)
    dataset = TensorDataset(torch.randn(64, 12, generator=generator), torch.rand(64, generator=generator))
    model = nn.Sequential(nn.Linear(12, 32), nn.LayerNorm(32), nn.Tanh(), nn.Linear(32, 1), nn.Flatten(0))
    optimizer = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    engine = PrivacyEngine()
    model, optimizer, loader = engine.make_private(
        module=model, optimizer=optimizer, data_loader=DataLoader(dataset, batch_size=cfg.batch_size),
        noise_multiplier=0.8, max_grad_norm=1.0, poisson_sampling=False,
    )
    model.zero_grad()
    for epoch in range(cfg.epochs):
        for features, target in loader:
            loss = F.binary_cross_entropy_with_logits(model(features), target)
            loss.backward()
            optimizer.step()
            optimizer.zero_grad()


def main():
    train(Config())


CASE = {
    "script": "main",
    "runtime": "ok",
}

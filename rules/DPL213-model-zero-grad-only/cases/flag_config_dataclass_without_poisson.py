"""Settings in a config dataclass, `poisson_sampling=False` from it (the crash is not Poisson's accumulation
check: it is the DP optimizer's), and `model.zero_grad()` as the only clearing of the loop."""

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
    noise_multiplier: float = 0.8
    max_grad_norm: float = 1.0
    poisson_sampling: bool = False


class TabularNet(nn.Module):
    def __init__(self, features=12):
        super().__init__()
        self.hidden = nn.Linear(features, 32)
        self.norm = nn.LayerNorm(32)
        self.out = nn.Linear(32, 1)

    def forward(self, x):
        return self.out(torch.tanh(self.norm(self.hidden(x)))).squeeze(-1)


def train(cfg: Config):
    generator = torch.Generator().manual_seed(0)
    dataset = TensorDataset(torch.randn(64, 12, generator=generator), torch.rand(64, generator=generator))
    model = TabularNet()
    optimizer = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    engine = PrivacyEngine()
    model, optimizer, loader = engine.make_private(
        module=model, optimizer=optimizer, data_loader=DataLoader(dataset, batch_size=cfg.batch_size),
        noise_multiplier=cfg.noise_multiplier, max_grad_norm=cfg.max_grad_norm,
        poisson_sampling=cfg.poisson_sampling,
    )
    for features, target in loader:
        model.zero_grad()  # expect: DPL213
        loss = F.binary_cross_entropy_with_logits(model(features), target)
        loss.backward()
        optimizer.step()


def main():
    train(Config())


CASE = {
    "script": "main",
    "runtime": "crash",
    "error": "Gradients haven't been cleared since the last optimizer step",
}

"""`import opacus as dp` and the engine class reached through the module, built 0.x-style from a
config dataclass (batch size, dataset size, noise)."""

from dataclasses import dataclass, field

import opacus as dp
import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset


@dataclass
class PrivacyConfig:
    batch_size: int = 8
    noise_multiplier: float = 1.0
    max_grad_norm: float = 1.0
    alphas: list = field(default_factory=lambda: [2, 4, 8, 16, 32])


def build_engine(model, dataset, config: PrivacyConfig):
    return dp.PrivacyEngine(  # expect: DPL212
        model,
        batch_size=config.batch_size,
        sample_size=len(dataset),
        alphas=config.alphas,
        noise_multiplier=config.noise_multiplier,
        max_grad_norm=config.max_grad_norm,
    )


def train(config=None):
    config = config or PrivacyConfig()
    generator = torch.Generator().manual_seed(4)
    dataset = TensorDataset(torch.randn(32, 5, generator=generator), torch.randint(0, 2, (32,), generator=generator))
    model = nn.Sequential(nn.Linear(5, 8), nn.ReLU(), nn.Linear(8, 2))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    engine = build_engine(model, dataset, config)
    engine.attach(optimizer)
    for x, y in DataLoader(dataset, batch_size=config.batch_size):
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()


CASE = {
    "script": "train",
    "runtime": "crash",
    "reaches_engine": False,
    "error": "PrivacyEngine.__init__() got an unexpected keyword argument 'batch_size'",
}

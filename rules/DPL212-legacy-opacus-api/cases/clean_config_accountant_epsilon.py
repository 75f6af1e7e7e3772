"""The 1.x constructor's own keywords (`accountant`, `secure_mode`) from a config dataclass, and
`make_private_with_epsilon`: nothing of the 0.x API."""

from dataclasses import dataclass

import torch
import torch.nn as nn
from opacus import PrivacyEngine as Engine
from torch.utils.data import DataLoader, TensorDataset


@dataclass
class DPConfig:
    accountant: str = "rdp"
    secure_mode: bool = False
    target_epsilon: float = 8.0
    target_delta: float = 1e-5
    epochs: int = 1
    max_grad_norm: float = 1.0


def train(config=None):
    config = config or DPConfig()
    generator = torch.Generator().manual_seed(8)
    loader = DataLoader(TensorDataset(torch.randn(32, 6, generator=generator), torch.randint(0, 2, (32,), generator=generator)),
                        batch_size=8)
    model = nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Linear(16, 2))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    engine = Engine(accountant=config.accountant, secure_mode=config.secure_mode)
    model, optimizer, loader = engine.make_private_with_epsilon(
        module=model, optimizer=optimizer, data_loader=loader, target_epsilon=config.target_epsilon,
        target_delta=config.target_delta, epochs=config.epochs, max_grad_norm=config.max_grad_norm,
    )
    for _ in range(config.epochs):
        for x, y in loader:
            optimizer.zero_grad()
            nn.functional.cross_entropy(model(x), y).backward()
            optimizer.step()
    print(engine.get_epsilon(config.target_delta))


CASE = {
    "script": "train",
    "runtime": "ok",
}

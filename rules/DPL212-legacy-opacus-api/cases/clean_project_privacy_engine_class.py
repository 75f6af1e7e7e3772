"""A project's own `PrivacyEngine` class that keeps the 0.x calling convention (`PrivacyEngine(model,
sample_rate=..., ...)`, `attach(optimizer)`) on top of opacus 1.x: not opacus' class, nothing to report."""

import opacus
import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset


class PrivacyEngine:
    """0.x-style facade over `opacus.PrivacyEngine.make_private`."""

    def __init__(self, model, sample_rate, noise_multiplier, max_grad_norm):
        self.model = model
        self.sample_rate = sample_rate
        self.noise_multiplier = noise_multiplier
        self.max_grad_norm = max_grad_norm
        self.engine = opacus.PrivacyEngine()

    def attach(self, optimizer, loader):
        return self.engine.make_private(
            module=self.model, optimizer=optimizer, data_loader=loader,
            noise_multiplier=self.noise_multiplier, max_grad_norm=self.max_grad_norm,
        )

    def get_privacy_spent(self, delta):
        return self.engine.get_epsilon(delta)


def train():
    generator = torch.Generator().manual_seed(5)
    loader = DataLoader(TensorDataset(torch.randn(24, 6, generator=generator), torch.randint(0, 3, (24,), generator=generator)),
                        batch_size=8)
    model = nn.Sequential(nn.Linear(6, 12), nn.ReLU(), nn.Linear(12, 3))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    privacy_engine = PrivacyEngine(model, sample_rate=8 / 24, noise_multiplier=1.0, max_grad_norm=1.0)
    model, optimizer, loader = privacy_engine.attach(optimizer, loader)
    criterion = nn.CrossEntropyLoss()
    for x, y in loader:
        optimizer.zero_grad()
        criterion(model(x), y).backward()
        optimizer.step()
    print(privacy_engine.get_privacy_spent(1e-5))


CASE = {
    "script": "train",
    "runtime": "ok",
}

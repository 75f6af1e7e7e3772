"""The settings come from a `functools.partial` of the config class (`wrap_model=False` preset);
the script then moves the first result to the device, as one does with a model."""

import functools
from dataclasses import dataclass

import torch
import torch.nn as nn
from opacus import PrivacyEngine
from torch.utils.data import DataLoader, TensorDataset


@dataclass
class PrivacyConfig:
    noise_multiplier: float = 1.0
    max_grad_norm: float = 1.0
    wrap_model: bool = True


LowMemoryConfig = functools.partial(PrivacyConfig, wrap_model=False)


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = nn.Sequential(nn.Linear(10, 16), nn.Tanh(), nn.Linear(16, 2))

    def forward(self, x):
        return self.layers(x)


def main():
    privacy = LowMemoryConfig()
    device = torch.device("cpu")
    generator = torch.Generator().manual_seed(4)
    data = TensorDataset(torch.randn(32, 10, generator=generator), torch.randint(0, 2, (32,), generator=generator))
    model = MLP()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    model, optimizer, loader = PrivacyEngine().make_private(
        module=model, optimizer=optimizer, data_loader=DataLoader(data, batch_size=8),
        noise_multiplier=privacy.noise_multiplier, max_grad_norm=privacy.max_grad_norm,
        wrap_model=privacy.wrap_model,
    )
    model.to(device)  # expect: DPL214
    for x, y in loader:
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(x.to(device)), y.to(device)).backward()
        optimizer.step()


CASE = {
    "script": "main",
    "runtime": "crash",
    "error": "'GradSampleHooks' object has no attribute 'to'",
    "opacus": ">=1.6",  # 1.5.4 ignores wrap_model; 1.4.1 rejects it
}

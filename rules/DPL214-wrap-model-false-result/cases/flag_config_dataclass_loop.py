"""A config dataclass turns `wrap_model` off (to keep the module's own state_dict keys); the script
keeps the usual `model, optimizer, loader = make_private(module=model, ...)` line and trains the
first result, which opacus 1.6.0 makes a GradSampleHooks object."""

from dataclasses import dataclass

import torch
import torch.nn as nn
from opacus import PrivacyEngine
from torch.utils.data import DataLoader, TensorDataset


@dataclass
class DPConfig:
    noise_multiplier: float = 1.0
    max_grad_norm: float = 1.0
    wrap_model: bool = False
    epochs: int = 2


class Classifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.hidden = nn.Linear(8, 16)
        self.out = nn.Linear(16, 3)

    def forward(self, x):
        return self.out(torch.relu(self.hidden(x)))


def main():
    cfg = DPConfig()
    generator = torch.Generator().manual_seed(0)
    data = TensorDataset(torch.randn(48, 8, generator=generator), torch.randint(0, 3, (48,), generator=generator))
    model = Classifier()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05)
    engine = PrivacyEngine()
    model, optimizer, loader = engine.make_private(
        module=model, optimizer=optimizer, data_loader=DataLoader(data, batch_size=12),
        noise_multiplier=cfg.noise_multiplier, max_grad_norm=cfg.max_grad_norm, wrap_model=cfg.wrap_model,
    )
    criterion = nn.CrossEntropyLoss()
    for _ in range(cfg.epochs):
        for x, y in loader:
            optimizer.zero_grad()
            loss = criterion(model(x), y)  # expect: DPL214
            loss.backward()
            optimizer.step()


CASE = {
    "script": "main",
    "runtime": "crash",
    "error": "'GradSampleHooks' object is not callable",
    "opacus": ">=1.6",  # 1.5.4 ignores wrap_model; 1.4.1 rejects it
}

"""Ghost clipping (`grad_sample_mode="ghost"`, the criterion `make_private` returns) with `model.zero_grad()`
as the only clearing: the ghost optimizer keeps no per-parameter clipped sum between steps, and it trains
(measured, opacus 1.5.4 and 1.6.0)."""

import torch
import torch.nn as nn
from opacus import PrivacyEngine
from torch.utils.data import DataLoader, TensorDataset


def main():
    generator = torch.Generator().manual_seed(0)
    dataset = TensorDataset(torch.randn(64, 8, generator=generator), torch.randint(0, 3, (64,), generator=generator))
    model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 3))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    privacy_engine = PrivacyEngine()
    model, optimizer, criterion, loader = privacy_engine.make_private(
        module=model, optimizer=optimizer, data_loader=DataLoader(dataset, batch_size=16),
        criterion=nn.CrossEntropyLoss(), noise_multiplier=1.0, max_grad_norm=1.0, grad_sample_mode="ghost",
    )
    for x, y in loader:
        model.zero_grad()
        loss = criterion(model(x), y)
        loss.backward()
        optimizer.step()


CASE = {
    "script": "main",
    "runtime": "ok",
    "opacus": ">=1.5",
}

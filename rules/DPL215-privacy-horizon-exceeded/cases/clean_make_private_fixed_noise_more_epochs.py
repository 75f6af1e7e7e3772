"""`make_private` with a fixed `noise_multiplier` (no target ε, no horizon) and a loop of more epochs than a
separate `epochs` variable of the privacy report: nothing was calibrated for a number of epochs, so the loop's
count breaks no promise (the ε reported afterwards is what the steps spent)."""

import torch
import torch.nn as nn
from opacus import PrivacyEngine
from torch.utils.data import DataLoader, TensorDataset

REPORTED_EPOCHS = 1
EPOCHS = 3


def main():
    generator = torch.Generator().manual_seed(0)
    dataset = TensorDataset(torch.randn(32, 8, generator=generator), torch.randint(0, 3, (32,), generator=generator))
    model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 3))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    criterion = nn.CrossEntropyLoss()
    privacy_engine = PrivacyEngine()
    model, optimizer, loader = privacy_engine.make_private(
        module=model, optimizer=optimizer, data_loader=DataLoader(dataset, batch_size=8),
        noise_multiplier=1.0, max_grad_norm=1.0,
    )
    for epoch in range(EPOCHS):
        for x, y in loader:
            optimizer.zero_grad()
            criterion(model(x), y).backward()
            optimizer.step()
    print(f"{REPORTED_EPOCHS} planned, ε = {privacy_engine.get_epsilon(1e-5):.2f}")


CASE = {
    "script": "main",
    "runtime": "ok",
}

"""main() makes the model private and hands the DP optimizer and a GradScaler to a train_one_epoch()
helper, which scales the loss."""

import torch
import torch.nn as nn
from opacus import PrivacyEngine
from torch.amp import GradScaler
from torch.utils.data import DataLoader, TensorDataset


class Regressor(nn.Module):
    def __init__(self):
        super().__init__()
        self.hidden = nn.Linear(6, 12)
        self.out = nn.Linear(12, 1)

    def forward(self, x):
        return self.out(torch.relu(self.hidden(x)))


def train_one_epoch(model, loader, optimizer, loss_fn, grad_scaler):
    model.train()
    total = 0.0
    for inputs, targets in loader:
        optimizer.zero_grad(set_to_none=True)
        loss = loss_fn(model(inputs), targets)
        grad_scaler.scale(loss).backward()  # expect: DPL206
        grad_scaler.step(optimizer)
        grad_scaler.update()
        total += loss.item()
    return total


def main():
    generator = torch.Generator().manual_seed(2)
    dataset = TensorDataset(torch.randn(40, 6, generator=generator), torch.randn(40, 1, generator=generator))
    loader = DataLoader(dataset, batch_size=10)
    model = Regressor()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    engine = PrivacyEngine()
    model, optimizer, loader = engine.make_private(
        module=model, optimizer=optimizer, data_loader=loader, noise_multiplier=1.1, max_grad_norm=1.0,
    )
    scaler = GradScaler("cpu")
    for _ in range(2):
        train_one_epoch(model, loader, optimizer, nn.MSELoss(), scaler)


CASE = {
    "script": "main",
    "runtime": "silent",
    "violation": "per-sample",
}

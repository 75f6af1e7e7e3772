"""The same argparse script with both calls: `model.zero_grad()` and `optimizer.zero_grad()` at the start of
every batch (the optimizer's call clears the clipped sums): it trains."""

import argparse

import torch
import torch.nn as nn
from opacus import PrivacyEngine
from torch.utils.data import DataLoader, TensorDataset


class MLP(nn.Module):
    def __init__(self, features=8, hidden=16, classes=3):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(features, hidden), nn.ReLU(), nn.Linear(hidden, classes))

    def forward(self, x):
        return self.net(x)


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--lr", type=float, default=0.1)
    parser.add_argument("--batch-size", type=int, default=16)
    args = parser.parse_args(argv)
    generator = torch.Generator().manual_seed(0)
    dataset = TensorDataset(torch.randn(64, 8, generator=generator), torch.randint(0, 3, (64,), generator=generator))
    model = MLP()
    optimizer = torch.optim.SGD(model.parameters(), lr=args.lr)
    criterion = nn.CrossEntropyLoss()
    privacy_engine = PrivacyEngine()
    model, optimizer, train_loader = privacy_engine.make_private(
        module=model, optimizer=optimizer, data_loader=DataLoader(dataset, batch_size=args.batch_size),
        noise_multiplier=1.0, max_grad_norm=1.0,
    )
    model.train()
    for x, y in train_loader:
        model.zero_grad()
        optimizer.zero_grad()
        loss = criterion(model(x), y)
        loss.backward()
        optimizer.step()


CASE = {
    "script": "main",
    "args": [[]],
    "runtime": "ok",
}

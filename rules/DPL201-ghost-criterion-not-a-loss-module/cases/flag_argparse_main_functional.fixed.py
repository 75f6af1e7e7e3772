"""An argparse `main()` that turns on ghost clipping and passes `F.cross_entropy` as the criterion."""

import argparse

import torch
import torch.nn as nn
import torch.nn.functional as F
from opacus import PrivacyEngine
from torch.utils.data import DataLoader, TensorDataset


class MLP(nn.Module):
    def __init__(self, features=8, hidden=16, classes=3):
        super().__init__()
        self.fc1 = nn.Linear(features, hidden)
        self.fc2 = nn.Linear(hidden, classes)

    def forward(self, x):
        return self.fc2(torch.relu(self.fc1(x)))


def make_loader(batch_size):
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(64, 8, generator=generator)
    x[::8] *= 100  # a few outliers: what per-sample clipping is for
    y = torch.randint(0, 3, (64,), generator=generator)
    return DataLoader(TensorDataset(x, y), batch_size=batch_size)


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--lr", type=float, default=0.1)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--sigma", type=float, default=1.0)
    parser.add_argument("--max-grad-norm", type=float, default=1.0)
    args = parser.parse_args(argv)

    model = MLP()
    optimizer = torch.optim.SGD(model.parameters(), lr=args.lr)
    train_loader = make_loader(args.batch_size)
    privacy_engine = PrivacyEngine()
    model, optimizer, criterion, train_loader = privacy_engine.make_private(
        module=model,
        optimizer=optimizer,
        data_loader=train_loader,
        criterion=nn.CrossEntropyLoss(),  # expect: DPL201
        noise_multiplier=args.sigma,
        max_grad_norm=args.max_grad_norm,
        grad_sample_mode="ghost",
    )
    for x, y in train_loader:
        optimizer.zero_grad()
        loss = criterion(model(x), y)
        loss.backward()
        optimizer.step()


CASE = {
    "opacus": ">=1.5.3",  # ghost clipping's criterion API
    # Measured on 1.5.4: DPLossFastGradientClipping reads `criterion.reduction`, which a function lacks.
    "versions": {"<1.6": {"runtime": "crash", "error": "has no attribute 'reduction'"}},
    "script": "main",
    "args": [[]],
    "runtime": "silent",
    "violation": "clipping",
}

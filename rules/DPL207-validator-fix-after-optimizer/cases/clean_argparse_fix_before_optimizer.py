"""The argparse main() in the right order: ModuleValidator.fix first, then the optimizer over the
fixed model's parameters."""

import argparse

import torch
import torch.nn as nn
from opacus import PrivacyEngine
from opacus.validators import ModuleValidator
from torch.utils.data import DataLoader, TensorDataset


class TabularNet(nn.Module):
    def __init__(self, features=12, classes=2):
        super().__init__()
        self.fc1 = nn.Linear(features, 24)
        self.norm = nn.BatchNorm1d(24)
        self.fc2 = nn.Linear(24, classes)

    def forward(self, x):
        return self.fc2(torch.relu(self.norm(self.fc1(x))))


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--lr", type=float, default=0.05)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--sigma", type=float, default=1.0)
    args = parser.parse_args(argv)

    generator = torch.Generator().manual_seed(0)
    dataset = TensorDataset(torch.randn(64, 12, generator=generator), torch.randint(0, 2, (64,), generator=generator))
    train_loader = DataLoader(dataset, batch_size=args.batch_size, shuffle=True)
    model = TabularNet()
    print(f"{len(ModuleValidator.validate(model))} layers to replace")
    model = ModuleValidator.fix(model)
    optimizer = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=0.9)
    criterion = nn.CrossEntropyLoss()
    privacy_engine = PrivacyEngine()
    model, optimizer, train_loader = privacy_engine.make_private(
        module=model,
        optimizer=optimizer,
        data_loader=train_loader,
        noise_multiplier=args.sigma,
        max_grad_norm=1.0,
    )
    for x, y in train_loader:
        optimizer.zero_grad()
        criterion(model(x), y).backward()
        optimizer.step()


CASE = {
    "script": "main",
    "args": [[]],
    "runtime": "ok",
    "opacus": ">=1.5.3",  # before 1.5.3 ModuleValidator.fix fails on torch >= 2.6 (UnpicklingError)
}

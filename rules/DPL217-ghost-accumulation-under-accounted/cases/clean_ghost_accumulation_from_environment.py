"""The accumulation count comes from an environment variable (unset here: 1). dp-lint cannot read it and reports
nothing; the run steps every batch."""

import os

import torch
import torch.nn as nn
from opacus import PrivacyEngine
from torch.utils.data import DataLoader, TensorDataset


class MLP(nn.Module):
    def __init__(self, in_features=8, hidden=16, classes=3):
        super().__init__()
        self.fc1 = nn.Linear(in_features, hidden)
        self.fc2 = nn.Linear(hidden, classes)

    def forward(self, x):
        return self.fc2(torch.relu(self.fc1(x)))


def dataset():
    generator = torch.Generator().manual_seed(0)
    return TensorDataset(torch.randn(64, 8, generator=generator), torch.randint(0, 3, (64,), generator=generator))


def main():
    accumulation = int(os.environ.get("DPL217_CASE_ACCUMULATION", "1"))
    model = MLP()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    model, optimizer, criterion, loader = PrivacyEngine().make_private(
        module=model, optimizer=optimizer, data_loader=DataLoader(dataset(), batch_size=8),
        criterion=nn.CrossEntropyLoss(), noise_multiplier=1.0, max_grad_norm=1.0, grad_sample_mode="ghost",
    )
    for step, (x, y) in enumerate(loader):
        criterion(model(x), y).backward()
        if (step + 1) % accumulation == 0:
            optimizer.step()
            optimizer.zero_grad()


CASE = {
    "script": "main",
    "runtime": "ok",
    "opacus": ">=1.5",  # ghost clipping (make_private's criterion=) exists since 1.5
}

"""A `train_one_epoch(model, loader, optimizer, criterion)` helper in the shape of Opacus' examples, called with
the ghost criterion make_private returned; it accumulates `ACCUMULATION` (4) batches per step, the last partial
group stepped too (`or i == len(loader) - 1`)."""

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

ACCUMULATION = 4


def train_one_epoch(model, loader, optimizer, criterion):
    model.train()
    for i, (x, y) in enumerate(loader):
        loss = criterion(model(x), y) / ACCUMULATION
        loss.backward()  # expect: DPL217
        if (i + 1) % ACCUMULATION == 0 or i == len(loader) - 1:
            optimizer.step()
            optimizer.zero_grad()


def main():
    model = MLP()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    engine = PrivacyEngine()
    model, optimizer, criterion, loader = engine.make_private(
        module=model, optimizer=optimizer, data_loader=DataLoader(dataset(), batch_size=8),
        criterion=nn.CrossEntropyLoss(), noise_multiplier=1.0, max_grad_norm=1.0, grad_sample_mode="ghost",
    )
    for epoch in range(2):
        train_one_epoch(model, loader, optimizer, criterion)


CASE = {
    "script": "main",
    "runtime": "silent",
    "violation": "accounting",
    "opacus": ">=1.6",  # 1.5.4 cannot divide the ghost loss (TypeError: unsupported operand type(s) for /)
}

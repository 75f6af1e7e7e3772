"""The same accumulation in hooks mode without Poisson sampling: Opacus counts each step at `accumulation_steps`
times the sample rate (`accountant.history` `[(σ, 0.25, 4)]` for 8 batches of 8 by 2), so the ε is right."""

from dataclasses import dataclass

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


@dataclass
class TrainConfig:
    accumulation_steps: int = 2


def train(cfg: TrainConfig):
    model = MLP()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05)
    model, optimizer, loader = PrivacyEngine().make_private(
        module=model, optimizer=optimizer, data_loader=DataLoader(dataset(), batch_size=8),
        noise_multiplier=1.0, max_grad_norm=1.0, poisson_sampling=False,
    )
    criterion = nn.CrossEntropyLoss()
    for i, (x, y) in enumerate(loader):
        criterion(model(x), y).backward()
        if (i + 1) % cfg.accumulation_steps == 0:
            optimizer.step()
            optimizer.zero_grad()


def main():
    train(TrainConfig())


CASE = {
    "script": "main",
    "runtime": "ok",
}

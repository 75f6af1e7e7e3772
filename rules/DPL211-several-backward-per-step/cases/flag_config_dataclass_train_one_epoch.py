"""A training config dataclass with `accumulation_steps: int = 4` and a `train_one_epoch` helper that
accumulates the gradients of four batches before each step. Under Poisson sampling the second batch's
backward raises."""

from dataclasses import dataclass

import torch
import torch.nn as nn
from opacus import PrivacyEngine
from torch.utils.data import DataLoader, TensorDataset


@dataclass
class TrainConfig:
    batch_size: int = 8
    lr: float = 0.05
    epochs: int = 1
    accumulation_steps: int = 4
    noise_multiplier: float = 1.0
    max_grad_norm: float = 1.0


class MLP(nn.Module):
    def __init__(self, in_features=8, hidden=16, classes=3):
        super().__init__()
        self.fc1 = nn.Linear(in_features, hidden)
        self.fc2 = nn.Linear(hidden, classes)

    def forward(self, x):
        return self.fc2(torch.relu(self.fc1(x)))


def train_one_epoch(model, loader, optimizer, criterion, cfg):
    model.train()
    optimizer.zero_grad()
    for i, (x, y) in enumerate(loader):
        loss = criterion(model(x), y) / cfg.accumulation_steps
        loss.backward()  # expect: DPL211
        if (i + 1) % cfg.accumulation_steps == 0:
            optimizer.step()
            optimizer.zero_grad()


def main():
    cfg = TrainConfig()
    generator = torch.Generator().manual_seed(0)
    data = TensorDataset(torch.randn(64, 8, generator=generator), torch.randint(0, 3, (64,), generator=generator))
    model = MLP()
    optimizer = torch.optim.SGD(model.parameters(), lr=cfg.lr, momentum=0.9)
    model, optimizer, loader = PrivacyEngine().make_private(
        module=model, optimizer=optimizer, data_loader=DataLoader(data, batch_size=cfg.batch_size),
        noise_multiplier=cfg.noise_multiplier, max_grad_norm=cfg.max_grad_norm,
    )
    criterion = nn.CrossEntropyLoss()
    for _ in range(cfg.epochs):
        train_one_epoch(model, loader, optimizer, criterion, cfg)


CASE = {
    "script": "main",
    "runtime": "crash",
    "error": "Poisson sampling is not compatible with grad accumulation",
}

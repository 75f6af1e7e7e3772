"""Settings in a config dataclass: ghost clipping, `poisson_sampling=False`, `accumulation_steps = 4`. Hooks mode
would count each step at 4 times the sample rate; ghost mode counts one batch per step."""

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
    batch_size: int = 8
    lr: float = 0.05
    accumulation_steps: int = 4
    grad_sample_mode: str = "ghost"


def train(cfg: TrainConfig):
    model = MLP()
    optimizer = torch.optim.SGD(model.parameters(), lr=cfg.lr, momentum=0.9)
    model, optimizer, criterion, loader = PrivacyEngine().make_private(
        module=model, optimizer=optimizer, data_loader=DataLoader(dataset(), batch_size=cfg.batch_size),
        criterion=nn.CrossEntropyLoss(), noise_multiplier=1.0, max_grad_norm=1.0,
        grad_sample_mode="ghost", poisson_sampling=False,
    )
    for i, (x, y) in enumerate(loader):
        criterion(model(x), y).backward()  # expect: DPL217
        if (i + 1) % cfg.accumulation_steps == 0:
            optimizer.step()
            optimizer.zero_grad()


def main():
    train(TrainConfig())


CASE = {
    "script": "main",
    "runtime": "silent",
    "violation": "accounting",
    "opacus": ">=1.5",  # ghost clipping (make_private's criterion=) exists since 1.5
}

"""After the optimizer is built, the head is wrapped with dropout: `nn.Sequential(nn.Dropout(p), model.head)`
keeps the old head (and its parameters) inside the model, so the optimizer's parameters are still the model's.
make_private accepts it and it trains (measured, opacus 1.4.1-1.6.0)."""

from dataclasses import dataclass

import torch
import torch.nn as nn
from opacus import PrivacyEngine
from torch.utils.data import DataLoader, TensorDataset


@dataclass
class Config:
    head_dropout: float = 0.1
    lr: float = 0.05
    batch_size: int = 8


class Classifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(nn.Linear(8, 16), nn.ReLU())
        self.head = nn.Linear(16, 3)

    def forward(self, x):
        return self.head(self.features(x))


def main(cfg=Config()):
    generator = torch.Generator().manual_seed(0)
    dataset = TensorDataset(torch.randn(32, 8, generator=generator), torch.randint(0, 3, (32,), generator=generator))
    model = Classifier()
    optimizer = torch.optim.SGD(model.parameters(), lr=cfg.lr)
    model.head = nn.Sequential(nn.Dropout(cfg.head_dropout), model.head)
    model, optimizer, loader = PrivacyEngine().make_private(
        module=model, optimizer=optimizer, data_loader=DataLoader(dataset, batch_size=cfg.batch_size),
        noise_multiplier=1.0, max_grad_norm=1.0,
    )
    for x, y in loader:
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()


CASE = {
    "script": "main",
    "runtime": "ok",
}

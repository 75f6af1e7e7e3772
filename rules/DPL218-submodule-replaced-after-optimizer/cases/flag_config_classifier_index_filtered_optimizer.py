"""A VGG-style classifier (`nn.Sequential` of Linear, ReLU, Linear) whose last layer is replaced by index after
the optimizer was built, with settings in a config dataclass. The optimizer filters by `requires_grad`, which
keeps the old layer (it is trainable): make_private raises."""

from dataclasses import dataclass

import torch
import torch.nn as nn
from opacus import PrivacyEngine
from torch.utils.data import DataLoader, TensorDataset


@dataclass
class Config:
    num_classes: int = 4
    batch_size: int = 8
    lr: float = 1e-3
    noise_multiplier: float = 1.1
    max_grad_norm: float = 1.0


class SmallVGG(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(2), nn.Flatten())
        self.classifier = nn.Sequential(nn.Linear(16, 16), nn.ReLU(), nn.Linear(16, 10))

    def forward(self, x):
        return self.classifier(self.features(x))


def train(cfg: Config):
    generator = torch.Generator().manual_seed(0)
    dataset = TensorDataset(torch.randn(32, 1, 8, 8, generator=generator),
                            torch.randint(0, cfg.num_classes, (32,), generator=generator))
    model = SmallVGG()
    optimizer = torch.optim.Adam(filter(lambda p: p.requires_grad, model.parameters()), lr=cfg.lr)
    model.classifier[2] = nn.Linear(16, cfg.num_classes)  # expect: DPL218
    model, optimizer, loader = PrivacyEngine().make_private(
        module=model, optimizer=optimizer, data_loader=DataLoader(dataset, batch_size=cfg.batch_size),
        noise_multiplier=cfg.noise_multiplier, max_grad_norm=cfg.max_grad_norm,
    )
    for x, y in loader:
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()


def main():
    train(Config())


CASE = {
    "script": "main",
    "runtime": "crash",
    "error": "Module parameters are different than optimizer Parameters",
}

"""A trainer class half migrated to Opacus 1.x: the engine is built without arguments, but the
optimizer is still attached to it the 0.x way."""

from dataclasses import dataclass

import torch
import torch.nn as nn
from opacus import PrivacyEngine
from torch.utils.data import DataLoader, TensorDataset


@dataclass
class TrainConfig:
    lr: float = 0.05
    noise_multiplier: float = 1.0
    max_grad_norm: float = 1.0
    epochs: int = 1


class Trainer:
    def __init__(self, model, loader, config: TrainConfig):
        self.config = config
        self.model = model
        self.loader = loader
        self.optimizer = torch.optim.SGD(model.parameters(), lr=config.lr)
        self.privacy_engine = PrivacyEngine(secure_mode=False)

    def setup_privacy(self):
        self.privacy_engine.attach(self.optimizer)  # expect: DPL212

    def fit(self):
        self.setup_privacy()
        for _ in range(self.config.epochs):
            for x, y in self.loader:
                self.optimizer.zero_grad()
                nn.functional.mse_loss(self.model(x), y).backward()
                self.optimizer.step()


def run():
    generator = torch.Generator().manual_seed(2)
    loader = DataLoader(TensorDataset(torch.randn(16, 4, generator=generator), torch.randn(16, 1, generator=generator)),
                        batch_size=4)
    Trainer(nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 1)), loader, TrainConfig()).fit()


CASE = {
    "script": "run",
    "runtime": "crash",
    "reaches_engine": False,
    "error": "'PrivacyEngine' object has no attribute 'attach'",
}

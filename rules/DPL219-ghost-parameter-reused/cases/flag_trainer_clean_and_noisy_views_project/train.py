"""A trainer for noise-robust classification under ghost clipping: each step sums the loss on the clean batch and
on a noisy copy of it, one forward pass of the private model each. Ghost clipping counts the forward passes each
`nn.Linear` parameter serves until the backward, and the noisy copy's forward raises
`NotImplementedError: Parameter tying is not supported with Ghost Clipping`."""

import torch
import torch.nn as nn
from opacus import PrivacyEngine
from torch.utils.data import DataLoader, TensorDataset

from consistency.config import TrainConfig
from consistency.models import build_model


def make_loader(cfg):
    generator = torch.Generator().manual_seed(0)
    data = TensorDataset(torch.randn(64, cfg.in_features, generator=generator),
                         torch.randint(0, cfg.num_classes, (64,), generator=generator))
    return DataLoader(data, batch_size=cfg.batch_size)


class Trainer:
    def __init__(self, cfg):
        self.cfg = cfg
        self.model = build_model(cfg)
        self.optimizer = torch.optim.AdamW(self.model.parameters(), lr=cfg.lr)
        self.privacy_engine = PrivacyEngine()

    def fit(self, loader):
        self.model, self.optimizer, self.criterion, loader = self.privacy_engine.make_private(
            module=self.model,
            optimizer=self.optimizer,
            data_loader=loader,
            criterion=nn.CrossEntropyLoss(),
            noise_multiplier=self.cfg.noise_multiplier,
            max_grad_norm=self.cfg.max_grad_norm,
            grad_sample_mode=self.cfg.grad_sample_mode,
        )
        for _ in range(self.cfg.epochs):
            for x, y in loader:
                self.optimizer.zero_grad()
                clean = self.criterion(self.model(x), y)
                noisy = self.criterion(self.model(x + self.cfg.noise_std * torch.randn_like(x)), y)  # expect: DPL219
                (clean + noisy).backward()
                self.optimizer.step()


def main():
    cfg = TrainConfig()
    Trainer(cfg).fit(make_loader(cfg))


CASE = {
    "opacus": ">=1.5.3",  # ghost clipping's criterion API
    "script": "main",
    "runtime": "crash",
    "error": "Parameter tying is not supported with Ghost Clipping",
}

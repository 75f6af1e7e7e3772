"""Train the denoiser with DP-SGD, settings from a config dataclass."""

import torch
import torch.nn as nn
from config import TrainConfig
from model import Denoiser
from opacus import PrivacyEngine
from torch.utils.data import DataLoader, TensorDataset


def make_dataset(cfg):
    generator = torch.Generator().manual_seed(0)
    return TensorDataset(torch.randn(64, cfg.hidden, generator=generator),
                         torch.randint(0, 2, (64,), generator=generator))


def main():
    cfg = TrainConfig()
    model = Denoiser(cfg)
    optimizer = torch.optim.SGD(model.parameters(), lr=cfg.lr)
    train_loader = DataLoader(make_dataset(cfg), batch_size=cfg.batch_size, shuffle=True)
    model, optimizer, train_loader = PrivacyEngine().make_private(
        module=model, optimizer=optimizer, data_loader=train_loader, noise_multiplier=1.0, max_grad_norm=1.0)
    criterion = nn.CrossEntropyLoss()
    for _ in range(cfg.epochs):
        for x, y in train_loader:
            optimizer.zero_grad()
            criterion(model(x), y).backward()
            optimizer.step()


CASE = {"script": "main", "runtime": "ok"}

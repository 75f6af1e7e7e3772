"""Pair verification with a Siamese network, in ghost mode from the config dataclass. The shared encoder
is called once per member of the pair: its `nn.Linear` layers serve two calls in one forward pass, and
ghost clipping raises at the first forward (hooks mode trains the same model)."""

import torch
import torch.nn as nn
from opacus import PrivacyEngine
from torch.utils.data import DataLoader, TensorDataset

from siamese.config import TrainConfig
from siamese.models import build_model


def make_loader(cfg):
    generator = torch.Generator().manual_seed(0)
    pairs = torch.randn(32, 2, cfg.in_features, generator=generator)
    same = torch.randint(0, 2, (32,), generator=generator)
    return DataLoader(TensorDataset(pairs, same), batch_size=cfg.batch_size)


def train(cfg):
    model = build_model("siamese", cfg)
    optimizer = torch.optim.SGD(model.parameters(), lr=cfg.lr, momentum=0.9)
    engine = PrivacyEngine()
    model, optimizer, criterion, loader = engine.make_private(
        module=model,
        optimizer=optimizer,
        data_loader=make_loader(cfg),
        criterion=nn.CrossEntropyLoss(),
        noise_multiplier=cfg.noise_multiplier,
        max_grad_norm=cfg.max_grad_norm,
        grad_sample_mode=cfg.grad_sample_mode,
    )
    for pairs, same in loader:
        optimizer.zero_grad()
        criterion(model(pairs), same).backward()
        optimizer.step()
    return engine


def main():
    train(TrainConfig())


CASE = {
    "opacus": ">=1.5.3",  # ghost clipping's criterion API
    "script": "main",
    "runtime": "crash",
    "error": "Parameter tying is not supported with Ghost Clipping",
}

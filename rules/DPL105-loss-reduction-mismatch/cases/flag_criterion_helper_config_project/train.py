# Mirrors a training script configured by a dataclass whose `reduction: str = "sum"` reaches the
# loss through a project helper (losses.build_criterion(reduction=cfg.reduction) returns
# nn.CrossEntropyLoss(reduction=reduction)), while make_private keeps loss_reduction="mean":
# every per-sample gradient is B times the true one (measured), clipped by the wrong scale, and
# no error is raised. Fix: `loss_reduction=cfg.reduction` in the make_private call.
from dataclasses import dataclass

import torch
from opacus import PrivacyEngine
from torch.utils.data import DataLoader, TensorDataset

from losses import build_criterion
from model import Classifier


@dataclass
class Config:
    reduction: str = "sum"
    max_grad_norm: float = 0.01
    batch_size: int = 16


def main():
    cfg = Config()
    x = torch.randn(64, 10)
    x[::8] *= 100
    loader = DataLoader(TensorDataset(x, torch.randint(0, 3, (64,))), batch_size=cfg.batch_size)
    model = Classifier()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    criterion = build_criterion(reduction=cfg.reduction)
    engine = PrivacyEngine()
    model, optimizer, loader = engine.make_private(
        module=model, optimizer=optimizer, data_loader=loader, noise_multiplier=0.0,
        max_grad_norm=cfg.max_grad_norm,
    )
    for features, labels in loader:
        optimizer.zero_grad()
        criterion(model(features), labels).backward()  # expect: DPL105
        optimizer.step()
    return model


CASE = {
    "script": "main",
    "runtime": "silent",
    "violation": "per-sample",
}

# Part of the multi-file case (see tabular/models.py): the training script.
import torch
import torch.nn.functional as F
from opacus import PrivacyEngine

from tabular.config import TrainConfig
from tabular.models import MODELS


def main(loader):
    cfg = TrainConfig(hidden=32)
    model = MODELS[cfg.arch](cfg.in_dim, cfg.hidden)
    optimizer = torch.optim.SGD(model.parameters(), lr=cfg.lr)
    engine = PrivacyEngine()
    model, optimizer, loader = engine.make_private(
        module=model, optimizer=optimizer, data_loader=loader,
        noise_multiplier=cfg.noise_multiplier, max_grad_norm=1.0,
    )
    for x, y in loader:
        optimizer.zero_grad()
        F.cross_entropy(model(x), y).backward()
        optimizer.step()
    return model

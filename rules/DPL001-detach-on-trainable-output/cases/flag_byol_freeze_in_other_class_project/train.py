# Part of the multi-file case (see byol_lab/byol.py): the DP pre-training script.
import torch
from opacus import PrivacyEngine

from byol_lab.byol import BYOL


def pretrain(loader, epochs=1):
    model = BYOL()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05)
    model, optimizer, loader = PrivacyEngine().make_private(
        module=model, optimizer=optimizer, data_loader=loader, noise_multiplier=1.0, max_grad_norm=1.0,
    )
    for _ in range(epochs):
        for x1, x2 in loader:
            optimizer.zero_grad()
            model(x1, x2).mean().backward()
            optimizer.step()

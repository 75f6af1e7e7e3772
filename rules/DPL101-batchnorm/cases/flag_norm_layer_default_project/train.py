# Part of the multi-file case (see vision/blocks.py): the training script.
import torch
import torch.nn.functional as F
from opacus import PrivacyEngine

from vision.blocks import ResNetSmall


def main(loader, epochs=1):
    model = ResNetSmall()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05)
    engine = PrivacyEngine()
    model, optimizer, loader = engine.make_private(
        module=model, optimizer=optimizer, data_loader=loader, noise_multiplier=1.0, max_grad_norm=1.0,
    )
    for _ in range(epochs):
        for x, y in loader:
            optimizer.zero_grad()
            F.cross_entropy(model(x), y).backward()
            optimizer.step()
    return model

import torch
from opacus import PrivacyEngine

from vitlib.model import TinyViT


def main(loader):
    model = TinyViT()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    engine = PrivacyEngine()
    model, optimizer, loader = engine.make_private(
        module=model, optimizer=optimizer, data_loader=loader, noise_multiplier=1.0, max_grad_norm=1.0,
    )
    for patches, labels in loader:
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(model(patches), labels).backward()
        optimizer.step()

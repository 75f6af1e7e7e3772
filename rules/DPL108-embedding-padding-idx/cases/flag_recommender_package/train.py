import torch
from opacus import PrivacyEngine

from recsys.model import NextItemModel


def main(loader):
    model = NextItemModel()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    engine = PrivacyEngine()
    model, optimizer, loader = engine.make_private(
        module=model, optimizer=optimizer, data_loader=loader, noise_multiplier=1.0, max_grad_norm=1.0,
    )
    for history, target in loader:
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(model(history), target).backward()
        optimizer.step()

import torch
from opacus import PrivacyEngine
from opacus.validators import ModuleValidator

from model import SmallResNet


def main(loader):
    model = ModuleValidator.fix(SmallResNet())
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    model, optimizer, loader = PrivacyEngine().make_private(
        module=model, optimizer=optimizer, data_loader=loader, noise_multiplier=1.0, max_grad_norm=1.0,
    )
    for x, y in loader:
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()

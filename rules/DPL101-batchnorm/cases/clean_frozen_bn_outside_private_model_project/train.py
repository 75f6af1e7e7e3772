import torch
from opacus import PrivacyEngine

from extractor import Extractor
from head import Probe


def main(loader):
    extractor = Extractor().eval()
    model = Probe()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    model, optimizer, loader = PrivacyEngine().make_private(
        module=model, optimizer=optimizer, data_loader=loader, noise_multiplier=1.0, max_grad_norm=1.0,
    )
    for x, y in loader:
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(model(extractor(x)), y).backward()
        optimizer.step()

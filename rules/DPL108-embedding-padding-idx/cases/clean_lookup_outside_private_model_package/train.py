import torch
from opacus import PrivacyEngine

from features import FeatureExtractor
from model import Head


def main(loader):
    extractor = FeatureExtractor().eval()
    model = Head()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    model, optimizer, loader = PrivacyEngine().make_private(
        module=model, optimizer=optimizer, data_loader=loader, noise_multiplier=1.0, max_grad_norm=1.0,
    )
    for tokens, target in loader:
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(model(extractor(tokens)), target).backward()
        optimizer.step()

# Part of the multi-file case (see speech/model.py): the training script, with a non-private baseline.
import torch
import torch.nn.functional as F
from opacus import PrivacyEngine

from speech.model import BaselineSpotter, KeywordSpotter


def fit(model, loader):
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    for x, y in loader:
        optimizer.zero_grad()
        F.cross_entropy(model(x), y).backward()
        optimizer.step()
    return model


def main(loader, private_loader):
    baseline = fit(BaselineSpotter(), loader)
    model = KeywordSpotter()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    engine = PrivacyEngine()
    model, optimizer, private_loader = engine.make_private(
        module=model, optimizer=optimizer, data_loader=private_loader, noise_multiplier=1.0, max_grad_norm=1.0,
    )
    for x, y in private_loader:
        optimizer.zero_grad()
        F.cross_entropy(model(x), y).backward()
        optimizer.step()
    return baseline, model

"""Progressive unfreezing with an optimizer built from the trainable parameters only
(`filter(lambda p: p.requires_grad, ...)`): the unfrozen backbone gets gradients but the DP optimizer never
steps it, so nothing raises (measured 1.4.1-1.6.0; the backbone simply does not train)."""

import argparse

import torch
import torch.nn as nn
from opacus import PrivacyEngine
from torch.utils.data import DataLoader, TensorDataset


class Classifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.backbone = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 16), nn.ReLU())
        self.head = nn.Linear(16, 3)

    def forward(self, x):
        return self.head(self.backbone(x))


def data():
    generator = torch.Generator().manual_seed(0)
    return TensorDataset(torch.randn(32, 8, generator=generator), torch.randint(0, 3, (32,), generator=generator))


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=2)
    args = parser.parse_args(argv)
    model = Classifier()
    for p in model.backbone.parameters():
        p.requires_grad = False
    optimizer = torch.optim.SGD(filter(lambda p: p.requires_grad, model.parameters()), lr=0.1)
    model, optimizer, loader = PrivacyEngine().make_private(
        module=model, optimizer=optimizer, data_loader=DataLoader(data(), batch_size=8),
        noise_multiplier=1.0, max_grad_norm=1.0,
    )
    for epoch in range(args.epochs):
        if epoch == 1:
            for p in model.parameters():
                p.requires_grad = True
        for x, y in loader:
            optimizer.zero_grad()
            nn.functional.cross_entropy(model(x), y).backward()
            optimizer.step()


CASE = {
    "script": "main",
    "args": [[]],
    "runtime": "ok",
}

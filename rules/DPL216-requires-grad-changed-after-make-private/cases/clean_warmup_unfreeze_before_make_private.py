"""A two-stage setup that unfreezes *before* make_private: the backbone is frozen for a (non-private) warm-up of
the head, unfrozen, and only then the model is made private. Every layer is hooked: it trains."""

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


def main():
    model = Classifier()
    for p in model.backbone.parameters():
        p.requires_grad = False
    warmup = torch.optim.SGD(model.head.parameters(), lr=0.1)
    public_x, public_y = torch.randn(8, 8), torch.randint(0, 3, (8,))
    warmup.zero_grad()
    nn.functional.cross_entropy(model(public_x), public_y).backward()
    warmup.step()
    for p in model.backbone.parameters():
        p.requires_grad = True
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    model, optimizer, loader = PrivacyEngine().make_private(
        module=model, optimizer=optimizer, data_loader=DataLoader(data(), batch_size=8),
        noise_multiplier=1.0, max_grad_norm=1.0,
    )
    for x, y in loader:
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()


CASE = {
    "script": "main",
    "runtime": "ok",
}

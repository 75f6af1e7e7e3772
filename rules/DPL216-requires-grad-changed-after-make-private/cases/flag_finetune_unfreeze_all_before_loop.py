"""A fine-tuning function that freezes the backbone with `requires_grad_(False)` for a linear probe, then, after
make_private, switches to full fine-tuning with `model.requires_grad_(True)` before the loop: the first step
raises (the backbone has no hooks)."""

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


def finetune(full=True):
    model = Classifier()
    model.backbone.requires_grad_(False)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    engine = PrivacyEngine()
    model, optimizer, loader = engine.make_private(
        module=model, optimizer=optimizer, data_loader=DataLoader(data(), batch_size=8),
        noise_multiplier=1.0, max_grad_norm=1.0,
    )
    model.requires_grad_(True)  # expect: DPL216
    for x, y in loader:
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()


def main():
    finetune()


CASE = {
    "script": "main",
    "runtime": "crash",
    "error": "Per sample gradient is not initialized",
}

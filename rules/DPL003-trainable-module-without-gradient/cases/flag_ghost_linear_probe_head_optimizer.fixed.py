"""A linear probe trained with ghost clipping: the backbone's features are computed under `torch.no_grad()` and
the optimizer holds only the head, but the backbone was never frozen. Ghost clipping reads the per-sample gradient
norm of every trainable parameter of the model at `loss.backward()`, whatever the optimizer holds, and the
backbone's were never computed: `AttributeError: 'Parameter' object has no attribute '_norm_sample'`. (In hooks
mode the same probe trains: the DP optimizer never steps the backbone.)"""

import argparse

import torch
import torch.nn as nn
from opacus import PrivacyEngine
from torch.utils.data import DataLoader, TensorDataset


class Backbone(nn.Module):
    def __init__(self, in_features=12, width=16):
        super().__init__()
        self.fc = nn.Linear(in_features, width)
        self.norm = nn.LayerNorm(width)

    def forward(self, x):
        return torch.relu(self.norm(self.fc(x)))


class LinearProbe(nn.Module):
    def __init__(self, num_classes=4):
        super().__init__()
        self.backbone = Backbone()  # expect: DPL003
        self.backbone.requires_grad_(False)
        self.head = nn.Linear(16, num_classes)

    def forward(self, x):
        with torch.no_grad():
            features = self.backbone(x)
        return self.head(features)


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--lr", type=float, default=0.1)
    parser.add_argument("--grad-sample-mode", default="ghost")
    args = parser.parse_args(argv)
    generator = torch.Generator().manual_seed(0)
    data = TensorDataset(torch.randn(64, 12, generator=generator), torch.randint(0, 4, (64,), generator=generator))
    model = LinearProbe()
    optimizer = torch.optim.SGD(model.head.parameters(), lr=args.lr)
    model, optimizer, criterion, loader = PrivacyEngine().make_private(
        module=model, optimizer=optimizer, data_loader=DataLoader(data, batch_size=16),
        criterion=nn.CrossEntropyLoss(), noise_multiplier=1.0, max_grad_norm=1.0,
        grad_sample_mode=args.grad_sample_mode,
    )
    for x, y in loader:
        optimizer.zero_grad()
        loss = criterion(model(x), y)
        loss.backward()
        optimizer.step()


CASE = {
    "opacus": ">=1.5.3",  # ghost clipping's criterion API
    "script": "main",
    "args": [[]],
    "runtime": "crash",
    "error": "no attribute '_norm_sample'",
}

"""The linear probe of the flag case (`torch.no_grad()` features, the optimizer on the head, the backbone not
frozen) trained in hooks mode: the backbone gets no per-sample gradient, but the DP optimizer never steps it and
clears what it holds, and training runs."""

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
        self.backbone = Backbone()
        self.head = nn.Linear(16, num_classes)

    def forward(self, x):
        with torch.no_grad():
            features = self.backbone(x)
        return self.head(features)


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--lr", type=float, default=0.1)
    parser.add_argument("--grad-sample-mode", default="hooks")
    args = parser.parse_args(argv)
    generator = torch.Generator().manual_seed(0)
    data = TensorDataset(torch.randn(64, 12, generator=generator), torch.randint(0, 4, (64,), generator=generator))
    model = LinearProbe()
    optimizer = torch.optim.SGD(model.head.parameters(), lr=args.lr)
    model, optimizer, loader = PrivacyEngine().make_private(
        module=model, optimizer=optimizer, data_loader=DataLoader(data, batch_size=16),
        noise_multiplier=1.0, max_grad_norm=1.0, grad_sample_mode=args.grad_sample_mode,
    )
    criterion = nn.CrossEntropyLoss()
    for x, y in loader:
        optimizer.zero_grad()
        loss = criterion(model(x), y)
        loss.backward()
        optimizer.step()


CASE = {
    "script": "main",
    "args": [[]],
    "runtime": "ok",
}

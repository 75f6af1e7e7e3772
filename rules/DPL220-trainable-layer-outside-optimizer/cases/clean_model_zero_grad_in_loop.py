"""The linear probe of the flag case with the unfrozen backbone, whose loop also calls the private model's
`zero_grad()`: that clears every hooked parameter's per-sample gradients, the backbone's included, and training
runs."""

import argparse

import torch
import torch.nn as nn
from opacus import PrivacyEngine
from torch.utils.data import DataLoader, TensorDataset


class Backbone(nn.Module):
    def __init__(self, in_features, width):
        super().__init__()
        self.fc1 = nn.Linear(in_features, width)
        self.norm = nn.LayerNorm(width)
        self.fc2 = nn.Linear(width, width)

    def forward(self, x):
        return self.fc2(torch.relu(self.norm(self.fc1(x))))


class LinearProbe(nn.Module):
    def __init__(self, in_features=12, width=16, num_classes=4):
        super().__init__()
        self.backbone = Backbone(in_features, width)
        self.head = nn.Linear(width, num_classes)

    def forward(self, x):
        return self.head(self.backbone(x))


def load_data(batch_size):
    generator = torch.Generator().manual_seed(0)
    data = TensorDataset(torch.randn(64, 12, generator=generator), torch.randint(0, 4, (64,), generator=generator))
    return DataLoader(data, batch_size=batch_size)


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--lr", type=float, default=0.1)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--epochs", type=int, default=2)
    args = parser.parse_args(argv)
    model = LinearProbe()
    optimizer = torch.optim.SGD(model.head.parameters(), lr=args.lr, momentum=0.9)
    privacy_engine = PrivacyEngine()
    model, optimizer, train_loader = privacy_engine.make_private(
        module=model, optimizer=optimizer, data_loader=load_data(args.batch_size),
        noise_multiplier=1.0, max_grad_norm=1.0,
    )
    criterion = nn.CrossEntropyLoss()
    for _ in range(args.epochs):
        for x, y in train_loader:
            optimizer.zero_grad()
            model.zero_grad()
            loss = criterion(model(x), y)
            loss.backward()
            optimizer.step()


CASE = {
    "script": "main",
    "args": [[]],
    "runtime": "ok",
}

"""Transfer learning in an argparse main(): a pretrained classifier is loaded, the optimizer is built from its
parameters, and only then is the 1000-class head replaced by one for `--num-classes`. The optimizer still holds
the old head's parameters, which the model no longer has: make_private raises."""

import argparse

import torch
import torch.nn as nn
from opacus import PrivacyEngine
from torch.utils.data import DataLoader, TensorDataset


class Classifier(nn.Module):
    def __init__(self, num_classes=1000):
        super().__init__()
        self.features = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 16), nn.ReLU())
        self.head = nn.Linear(16, num_classes)

    def forward(self, x):
        return self.head(self.features(x))


def data(num_classes):
    generator = torch.Generator().manual_seed(0)
    return TensorDataset(torch.randn(32, 8, generator=generator),
                         torch.randint(0, num_classes, (32,), generator=generator))


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--num-classes", type=int, default=3)
    parser.add_argument("--lr", type=float, default=0.05)
    args = parser.parse_args(argv)
    model = Classifier()
    optimizer = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=0.9)
    model.head = nn.Linear(model.head.in_features, args.num_classes)  # expect: DPL218
    privacy_engine = PrivacyEngine()
    model, optimizer, loader = privacy_engine.make_private(
        module=model, optimizer=optimizer, data_loader=DataLoader(data(args.num_classes), batch_size=8),
        noise_multiplier=1.0, max_grad_norm=1.0,
    )
    criterion = nn.CrossEntropyLoss()
    for x, y in loader:
        optimizer.zero_grad()
        criterion(model(x), y).backward()
        optimizer.step()


CASE = {
    "script": "main",
    "args": [[]],
    "runtime": "crash",
    "error": "Module parameters are different than optimizer Parameters",
}

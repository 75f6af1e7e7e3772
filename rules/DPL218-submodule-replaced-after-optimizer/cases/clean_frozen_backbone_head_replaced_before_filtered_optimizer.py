"""The transfer-learning script of the flag case in the right order: the backbone is frozen and the head
replaced before the optimizer is built from the parameters that require grad, so it holds the new head's, and
training runs."""

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


class Classifier(nn.Module):
    def __init__(self, num_classes=10):
        super().__init__()
        self.backbone = Backbone()
        self.head = nn.Linear(16, num_classes)

    def forward(self, x):
        return self.head(self.backbone(x))


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--num-classes", type=int, default=3)
    parser.add_argument("--lr", type=float, default=0.1)
    args = parser.parse_args(argv)
    model = Classifier()
    for parameter in model.backbone.parameters():
        parameter.requires_grad = False
    model.head = nn.Linear(16, args.num_classes)
    optimizer = torch.optim.SGD(filter(lambda p: p.requires_grad, model.parameters()), lr=args.lr)
    generator = torch.Generator().manual_seed(0)
    data = TensorDataset(torch.randn(32, 12, generator=generator),
                         torch.randint(0, args.num_classes, (32,), generator=generator))
    model, optimizer, loader = PrivacyEngine().make_private(
        module=model, optimizer=optimizer, data_loader=DataLoader(data, batch_size=8),
        noise_multiplier=1.0, max_grad_norm=1.0,
    )
    for x, y in loader:
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()


CASE = {
    "script": "main",
    "args": [[]],
    "runtime": "ok",
}

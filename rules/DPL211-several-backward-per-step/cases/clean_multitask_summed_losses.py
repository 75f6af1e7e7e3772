"""The multi-task model with its two losses summed into one backward: one backward per step, nothing raises."""

import argparse

import torch
import torch.nn as nn
import torch.nn.functional as F
from opacus import PrivacyEngine
from torch.utils.data import DataLoader, TensorDataset


class MultiTaskNet(nn.Module):
    def __init__(self, in_features=8, hidden=16, classes=3):
        super().__init__()
        self.encoder = nn.Linear(in_features, hidden)
        self.cls_head = nn.Linear(hidden, classes)
        self.reg_head = nn.Linear(hidden, 1)

    def forward(self, x):
        h = torch.relu(self.encoder(x))
        return self.cls_head(h), self.reg_head(h)


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--reg-weight", type=float, default=0.5)
    args = parser.parse_args(argv)
    generator = torch.Generator().manual_seed(0)
    data = TensorDataset(torch.randn(48, 8, generator=generator), torch.randint(0, 3, (48,), generator=generator),
                         torch.randn(48, 1, generator=generator))
    model = MultiTaskNet()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    model, optimizer, loader = PrivacyEngine().make_private(
        module=model, optimizer=optimizer, data_loader=DataLoader(data, batch_size=args.batch_size),
        noise_multiplier=1.0, max_grad_norm=1.0,
    )
    for x, label, target in loader:
        optimizer.zero_grad()
        logits, value = model(x)
        cls_loss = F.cross_entropy(logits, label)
        reg_loss = args.reg_weight * F.mse_loss(value, target)
        (cls_loss + reg_loss).backward()
        optimizer.step()


CASE = {
    "script": "main",
    "args": [[]],
    "runtime": "ok",
}

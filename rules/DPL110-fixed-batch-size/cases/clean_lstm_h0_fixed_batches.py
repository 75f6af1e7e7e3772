"""The stored-h0 LSTM with fixed-size batches: `poisson_sampling=False` and a `drop_last=True` loader.

The loss is `F.cross_entropy`: the harness's one-sample-at-a-time reference cannot run a model that
only takes batches of 16, so only the clipping bound and the aggregation are checked here."""

import argparse

import torch
import torch.nn as nn
import torch.nn.functional as F
from opacus import PrivacyEngine
from opacus.layers import DPLSTM
from torch.utils.data import DataLoader, TensorDataset


class SeqClassifier(nn.Module):
    def __init__(self, hidden, batch_size):
        super().__init__()
        self.lstm = DPLSTM(4, hidden, batch_first=True)
        self.h0 = torch.zeros(1, batch_size, hidden)
        self.c0 = torch.zeros(1, batch_size, hidden)
        self.head = nn.Linear(hidden, 2)

    def forward(self, x):
        out, _ = self.lstm(x, (self.h0, self.c0))
        return self.head(out[:, -1])


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--batch-size", type=int, default=16)
    args = parser.parse_args(argv)

    generator = torch.Generator().manual_seed(0)
    dataset = TensorDataset(torch.randn(70, 5, 4, generator=generator), torch.randint(0, 2, (70,), generator=generator))
    train_loader = DataLoader(dataset, batch_size=args.batch_size, shuffle=True, drop_last=True)
    model = SeqClassifier(8, args.batch_size)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05)
    model, optimizer, train_loader = PrivacyEngine().make_private(
        module=model, optimizer=optimizer, data_loader=train_loader, noise_multiplier=1.0, max_grad_norm=1.0,
        poisson_sampling=False,
    )
    for x, y in train_loader:
        optimizer.zero_grad()
        F.cross_entropy(model(x), y).backward()
        optimizer.step()


CASE = {"script": "main", "args": [[]], "runtime": "ok"}

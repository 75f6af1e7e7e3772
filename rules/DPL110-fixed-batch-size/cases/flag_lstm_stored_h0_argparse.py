"""An LSTM classifier that stores its initial hidden state for the command line's batch size."""

import argparse

import torch
import torch.nn as nn
from opacus import PrivacyEngine
from opacus.layers import DPLSTM
from torch.utils.data import DataLoader, TensorDataset


class SeqClassifier(nn.Module):
    def __init__(self, hidden, batch_size):
        super().__init__()
        self.lstm = DPLSTM(4, hidden, batch_first=True)
        self.h0 = torch.zeros(1, batch_size, hidden)  # expect: DPL110
        self.c0 = torch.zeros(1, batch_size, hidden)  # expect: DPL110
        self.head = nn.Linear(hidden, 2)

    def forward(self, x):
        out, _ = self.lstm(x, (self.h0, self.c0))
        return self.head(out[:, -1])


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--hidden", type=int, default=8)
    args = parser.parse_args(argv)

    generator = torch.Generator().manual_seed(0)
    dataset = TensorDataset(torch.randn(64, 5, 4, generator=generator), torch.randint(0, 2, (64,), generator=generator))
    train_loader = DataLoader(dataset, batch_size=args.batch_size, shuffle=True)
    model = SeqClassifier(args.hidden, args.batch_size)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05)
    criterion = nn.CrossEntropyLoss()
    model, optimizer, train_loader = PrivacyEngine().make_private(
        module=model, optimizer=optimizer, data_loader=train_loader, noise_multiplier=1.0, max_grad_norm=1.0,
    )
    for x, y in train_loader:
        optimizer.zero_grad()
        criterion(model(x), y).backward()
        optimizer.step()


CASE = {
    "script": "main",
    "args": [[]],
    "runtime": "crash",
    "error": "must match the size of tensor b (16) at non-singleton dimension 0",
}

"""An argparse main() with ghost clipping and `--gradient-accumulation-steps 2`: ghost mode accumulates without an
error, but the accountant counts each step at the sample rate of one batch, so `get_epsilon` under-reports."""

import argparse

import torch
import torch.nn as nn
from opacus import PrivacyEngine
from torch.utils.data import DataLoader, TensorDataset


class MLP(nn.Module):
    def __init__(self, in_features=8, hidden=16, classes=3):
        super().__init__()
        self.fc1 = nn.Linear(in_features, hidden)
        self.fc2 = nn.Linear(hidden, classes)

    def forward(self, x):
        return self.fc2(torch.relu(self.fc1(x)))


def dataset():
    generator = torch.Generator().manual_seed(0)
    return TensorDataset(torch.randn(64, 8, generator=generator), torch.randint(0, 3, (64,), generator=generator))


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--gradient-accumulation-steps", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=8)
    args = parser.parse_args(argv)
    model = MLP()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    privacy_engine = PrivacyEngine()
    model, optimizer, criterion, train_loader = privacy_engine.make_private(
        module=model, optimizer=optimizer, data_loader=DataLoader(dataset(), batch_size=args.batch_size),
        criterion=nn.CrossEntropyLoss(), noise_multiplier=1.0, max_grad_norm=1.0, grad_sample_mode="ghost",
    )
    for step, (x, y) in enumerate(train_loader):
        loss = criterion(model(x), y) / args.gradient_accumulation_steps
        loss.backward()  # expect: DPL217
        if (step + 1) % args.gradient_accumulation_steps == 0:
            optimizer.step()
            optimizer.zero_grad()


CASE = {
    "script": "main",
    "args": [[]],
    "runtime": "silent",
    "violation": "accounting",
    "opacus": ">=1.6",  # 1.5.4 cannot divide the ghost loss (TypeError: unsupported operand type(s) for /)
}

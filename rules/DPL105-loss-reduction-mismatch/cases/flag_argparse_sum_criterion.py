"""An argparse main() with a summed cross-entropy under make_private's default loss_reduction="mean"."""

import argparse

import torch
import torch.nn as nn
from opacus import PrivacyEngine
from torch.utils.data import DataLoader, TensorDataset


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(8, 16)
        self.fc2 = nn.Linear(16, 3)

    def forward(self, x):
        return self.fc2(torch.relu(self.fc1(x)))


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--batch-size", type=int, default=16)
    args = parser.parse_args(argv)

    generator = torch.Generator().manual_seed(0)
    dataset = TensorDataset(torch.randn(64, 8, generator=generator), torch.randint(0, 3, (64,), generator=generator))
    model = Net()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    criterion = nn.CrossEntropyLoss(reduction="sum")
    privacy_engine = PrivacyEngine()
    model, optimizer, train_loader = privacy_engine.make_private(
        module=model,
        optimizer=optimizer,
        data_loader=DataLoader(dataset, batch_size=args.batch_size),
        noise_multiplier=1.0,
        max_grad_norm=1.0,
    )
    for x, y in train_loader:
        optimizer.zero_grad()
        loss = criterion(model(x), y)  # expect: DPL105
        loss.backward()
        optimizer.step()


CASE = {
    "script": "main",
    "args": [[]],
    "runtime": "silent",
    "violation": "per-sample",
}

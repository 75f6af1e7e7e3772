"""An argparse main() whose `make_private_with_epsilon` call was written with `epochs=1` while the loop trains
`args.epochs` (default 3) epochs: the noise is calibrated to spend ε = 5 in one epoch, the loop runs three, and
the accountant ends far above the target."""

import argparse

import torch
import torch.nn as nn
from opacus import PrivacyEngine
from torch.utils.data import DataLoader, TensorDataset


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 3))

    def forward(self, x):
        return self.net(x)


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--epsilon", type=float, default=5.0)
    parser.add_argument("--delta", type=float, default=1e-5)
    args = parser.parse_args(argv)
    generator = torch.Generator().manual_seed(0)
    dataset = TensorDataset(torch.randn(32, 8, generator=generator), torch.randint(0, 3, (32,), generator=generator))
    model = MLP()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    criterion = nn.CrossEntropyLoss()
    privacy_engine = PrivacyEngine()
    model, optimizer, train_loader = privacy_engine.make_private_with_epsilon(
        module=model, optimizer=optimizer, data_loader=DataLoader(dataset, batch_size=8),
        target_epsilon=args.epsilon, target_delta=args.delta, epochs=1, max_grad_norm=1.0,
    )
    for epoch in range(args.epochs):  # expect: DPL215
        for x, y in train_loader:
            optimizer.zero_grad()
            criterion(model(x), y).backward()
            optimizer.step()
        print(f"epoch {epoch}: ε = {privacy_engine.get_epsilon(args.delta):.2f}")


CASE = {
    "script": "main",
    "args": [[]],
    "runtime": "silent",
    "violation": "budget",
}

"""An argparse training script that logs the training accuracy of each batch with a second forward of
the private model, between `loss.backward()` and `optimizer.step()`: its activations are never
consumed, so that step raises `Per sample gradient is not initialized`."""

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


def parse_args(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--lr", type=float, default=0.1)
    parser.add_argument("--sigma", type=float, default=1.0)
    parser.add_argument("--max-per-sample-grad-norm", type=float, default=1.0)
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    generator = torch.Generator().manual_seed(0)
    data = TensorDataset(torch.randn(48, 8, generator=generator), torch.randint(0, 3, (48,), generator=generator))
    model = MLP()
    optimizer = torch.optim.SGD(model.parameters(), lr=args.lr)
    criterion = nn.CrossEntropyLoss()
    privacy_engine = PrivacyEngine()
    model, optimizer, train_loader = privacy_engine.make_private(
        module=model, optimizer=optimizer, data_loader=DataLoader(data, batch_size=12),
        noise_multiplier=args.sigma, max_grad_norm=args.max_per_sample_grad_norm,
    )
    for epoch in range(args.epochs):
        model.train()
        for images, target in train_loader:
            optimizer.zero_grad()
            output = model(images)
            loss = criterion(output, target)
            loss.backward()
            preds = model(images).argmax(dim=1)  # expect: DPL210
            acc = (preds == target).float().mean().item()
            optimizer.step()
        print(f"epoch {epoch}: loss {loss.item():.3f} acc {acc:.3f}")


CASE = {
    "script": "main",
    "args": [[]],
    "runtime": "crash",
    "error": "Per sample gradient is not initialized",
}

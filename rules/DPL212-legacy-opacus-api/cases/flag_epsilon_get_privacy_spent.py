"""Training migrated to `make_private`, but the epoch summary still asks for the budget with the 0.x
`get_privacy_spent(delta)`: the first epoch trains, then the report raises."""

import argparse

import torch
import torch.nn as nn
from opacus import PrivacyEngine
from torch.utils.data import DataLoader, TensorDataset


def make_model():
    return nn.Sequential(nn.Linear(10, 32), nn.ReLU(), nn.Linear(32, 2))


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--delta", type=float, default=1e-5)
    parser.add_argument("--sigma", type=float, default=1.1)
    args = parser.parse_args(argv)
    generator = torch.Generator().manual_seed(3)
    dataset = TensorDataset(torch.randn(40, 10, generator=generator), torch.randint(0, 2, (40,), generator=generator))
    model = make_model()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    privacy_engine = PrivacyEngine(accountant="rdp")
    model, optimizer, train_loader = privacy_engine.make_private(
        module=model, optimizer=optimizer, data_loader=DataLoader(dataset, batch_size=10),
        noise_multiplier=args.sigma, max_grad_norm=1.0,
    )
    criterion = nn.CrossEntropyLoss()
    for epoch in range(args.epochs):
        for x, y in train_loader:
            optimizer.zero_grad()
            criterion(model(x), y).backward()
            optimizer.step()
        epsilon, best_alpha = privacy_engine.get_privacy_spent(args.delta)  # expect: DPL212
        print(f"epoch {epoch}: ε = {epsilon:.2f} for α = {best_alpha}")


CASE = {
    "script": "main",
    "args": [[]],
    "runtime": "crash",
    "error": "'PrivacyEngine' object has no attribute 'get_privacy_spent'",
}

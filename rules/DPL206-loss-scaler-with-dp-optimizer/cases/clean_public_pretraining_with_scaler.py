"""Mixed precision only where it is harmless: the model is pre-trained on public data with a
GradScaler, then fine-tuned privately (make_private) without one; an `--amp` flag (off by default)
decides whether the private phase builds a scaler, which dp-lint cannot know."""

import argparse

import torch
import torch.nn as nn
from opacus import PrivacyEngine
from torch.utils.data import DataLoader, TensorDataset


class Regressor(nn.Module):
    def __init__(self):
        super().__init__()
        self.hidden = nn.Linear(6, 12)
        self.out = nn.Linear(12, 1)

    def forward(self, x):
        return self.out(torch.relu(self.hidden(x)))


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--amp", action="store_true")
    args = parser.parse_args(argv)
    generator = torch.Generator().manual_seed(2)
    public = TensorDataset(torch.randn(40, 6, generator=generator), torch.randn(40, 1, generator=generator))
    private = TensorDataset(torch.randn(40, 6, generator=generator), torch.randn(40, 1, generator=generator))
    model = Regressor()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    criterion = nn.MSELoss()

    pretrain_scaler = torch.amp.GradScaler("cpu")
    for x, y in DataLoader(public, batch_size=10):
        optimizer.zero_grad()
        pretrain_scaler.scale(criterion(model(x), y)).backward()
        pretrain_scaler.step(optimizer)
        pretrain_scaler.update()

    engine = PrivacyEngine()
    model, optimizer, loader = engine.make_private(
        module=model, optimizer=optimizer, data_loader=DataLoader(private, batch_size=10),
        noise_multiplier=1.1, max_grad_norm=1.0,
    )
    scaler = torch.amp.GradScaler("cpu", enabled=args.amp)
    for x, y in loader:
        optimizer.zero_grad()
        scaler.scale(criterion(model(x), y)).backward()
        scaler.step(optimizer)
        scaler.update()


CASE = {
    "script": "main",
    "args": [[]],
    "runtime": "ok",
}

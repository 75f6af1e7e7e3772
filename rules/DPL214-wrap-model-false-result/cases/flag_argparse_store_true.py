"""argparse: `--wrap-model` is a store_true flag, so by default `wrap_model=False`; the script
names the first result `private_model` and calls it in the loop."""

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
    parser.add_argument("--sigma", type=float, default=1.0)
    parser.add_argument("-c", "--max-per-sample-grad-norm", type=float, default=1.0)
    parser.add_argument("--wrap-model", action="store_true", help="wrap the model in a GradSampleModule")
    parser.add_argument("--lr", type=float, default=0.01)
    args = parser.parse_args(argv)
    generator = torch.Generator().manual_seed(2)
    data = TensorDataset(torch.randn(40, 6, generator=generator), torch.randn(40, 1, generator=generator))
    model = Regressor()
    optimizer = torch.optim.SGD(model.parameters(), lr=args.lr)
    private_model, optimizer, loader = PrivacyEngine().make_private(
        module=model, optimizer=optimizer, data_loader=DataLoader(data, batch_size=10),
        noise_multiplier=args.sigma, max_grad_norm=args.max_per_sample_grad_norm, wrap_model=args.wrap_model,
    )
    for x, y in loader:
        optimizer.zero_grad()
        nn.functional.mse_loss(private_model(x), y).backward()  # expect: DPL214
        optimizer.step()


CASE = {
    "script": "main",
    "args": [[]],
    "runtime": "crash",
    "error": "'GradSampleHooks' object is not callable",
    "opacus": ">=1.6",  # 1.5.4 ignores wrap_model; 1.4.1 rejects it
}

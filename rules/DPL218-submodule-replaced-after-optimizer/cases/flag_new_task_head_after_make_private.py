"""Two tasks in one run: after training on the first, the script gives the private model a fresh head for the
second (`model._module.head = ...`) and keeps the DP optimizer. The optimizer still steps the old head, which gets
no per-sample gradients any more: the first step of the second task raises (functorch mode, as in hooks mode)."""

import torch
import torch.nn as nn
from opacus import PrivacyEngine
from torch.utils.data import DataLoader, TensorDataset


class MultiTaskNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.trunk = nn.Sequential(nn.Linear(8, 16), nn.ReLU())
        self.head = nn.Linear(16, 3)

    def forward(self, x):
        return self.head(self.trunk(x))


def task(seed):
    generator = torch.Generator().manual_seed(seed)
    return TensorDataset(torch.randn(32, 8, generator=generator), torch.randint(0, 3, (32,), generator=generator))


def main():
    model = MultiTaskNet()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    model, optimizer, loader = PrivacyEngine().make_private(
        module=model, optimizer=optimizer, data_loader=DataLoader(task(0), batch_size=8),
        noise_multiplier=1.0, max_grad_norm=1.0, grad_sample_mode="functorch",
    )
    criterion = nn.CrossEntropyLoss()
    for x, y in loader:
        optimizer.zero_grad()
        criterion(model(x), y).backward()
        optimizer.step()
    model._module.head = nn.Linear(16, 3)  # expect: DPL218
    for x, y in loader:
        optimizer.zero_grad()
        criterion(model(x), y).backward()
        optimizer.step()


CASE = {
    "script": "main",
    "runtime": "crash",
    "error": "Per sample gradient is not initialized",
}

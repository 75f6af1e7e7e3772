"""A model that appends zero features made for `self.bs` rows (a `bs` constructor argument)."""

import torch
import torch.nn as nn
from opacus import PrivacyEngine
from torch.utils.data import DataLoader, TensorDataset


class PaddedNet(nn.Module):
    def __init__(self, features, bs):
        super().__init__()
        self.bs = bs
        self.fc = nn.Linear(features + 4, 2)

    def forward(self, x):
        pad = torch.zeros(self.bs, 4)  # expect: DPL110
        return self.fc(torch.cat([x, pad], dim=1))


def run():
    bs = 16
    generator = torch.Generator().manual_seed(0)
    dataset = TensorDataset(torch.randn(64, 12, generator=generator), torch.randint(0, 2, (64,), generator=generator))
    model = PaddedNet(12, bs=bs)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    model, optimizer, loader = PrivacyEngine().make_private(
        module=model, optimizer=optimizer, data_loader=DataLoader(dataset, bs), noise_multiplier=1.0,
        max_grad_norm=1.0, poisson_sampling=True)
    criterion = nn.CrossEntropyLoss()
    for x, y in loader:
        optimizer.zero_grad()
        criterion(model(x), y).backward()
        optimizer.step()


CASE = {"script": "run", "runtime": "crash", "error": "Sizes of tensors must match except in dimension 1"}

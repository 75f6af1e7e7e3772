"""A width that happens to equal the batch size (16) is no batch size: `hidden` sizes features only."""

import torch
import torch.nn as nn
from opacus import PrivacyEngine
from torch.utils.data import DataLoader, TensorDataset

BATCH_SIZE = 16


class ScaledNet(nn.Module):
    def __init__(self, hidden):
        super().__init__()
        self.hidden = hidden
        self.register_buffer("scale", torch.ones(hidden))
        self.fc = nn.Linear(hidden, 2)

    def forward(self, x):
        x = x.view(-1, self.hidden)
        return self.fc(x * self.scale + torch.zeros(16))


def run():
    generator = torch.Generator().manual_seed(0)
    dataset = TensorDataset(torch.randn(64, 16, generator=generator), torch.randint(0, 2, (64,), generator=generator))
    model = ScaledNet(16)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    model, optimizer, loader = PrivacyEngine().make_private(
        module=model, optimizer=optimizer, data_loader=DataLoader(dataset, batch_size=BATCH_SIZE),
        noise_multiplier=1.0, max_grad_norm=1.0)
    criterion = nn.CrossEntropyLoss()
    for x, y in loader:
        optimizer.zero_grad()
        criterion(model(x), y).backward()
        optimizer.step()


CASE = {"script": "run", "runtime": "ok"}

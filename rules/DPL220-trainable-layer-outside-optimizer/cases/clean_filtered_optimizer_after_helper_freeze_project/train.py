"""A linear probe whose backbone a helper in another module freezes, with the optimizer built from
`filter(lambda p: p.requires_grad, model.parameters())` afterwards: the optimizer holds every parameter that still
requires grad (the head's), `make_private` hooks only the head, and training runs."""

import torch
import torch.nn as nn
from opacus import PrivacyEngine
from torch.utils.data import DataLoader, TensorDataset

from probe.freezing import freeze
from probe.models import LinearProbe


def main():
    model = LinearProbe()
    freeze(model.backbone)
    optimizer = torch.optim.SGD(filter(lambda p: p.requires_grad, model.parameters()), lr=0.1, momentum=0.9)
    generator = torch.Generator().manual_seed(0)
    data = TensorDataset(torch.randn(64, 12, generator=generator), torch.randint(0, 4, (64,), generator=generator))
    model, optimizer, loader = PrivacyEngine().make_private(
        module=model, optimizer=optimizer, data_loader=DataLoader(data, batch_size=16),
        noise_multiplier=1.0, max_grad_norm=1.0,
    )
    criterion = nn.CrossEntropyLoss()
    for _ in range(2):
        for x, y in loader:
            optimizer.zero_grad()
            criterion(model(x), y).backward()
            optimizer.step()


CASE = {
    "script": "main",
    "runtime": "ok",
}

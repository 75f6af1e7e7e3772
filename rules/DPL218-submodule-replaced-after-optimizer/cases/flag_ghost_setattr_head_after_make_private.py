"""Ghost clipping, and a head swapped by name after make_private (`setattr(model._module, head_name, ...)`, as
generic fine-tuning code writes it). The ghost optimizer expects a per-sample norm on every parameter it holds;
the old head's parameters get none: the next step raises."""

import torch
import torch.nn as nn
from opacus import PrivacyEngine
from torch.utils.data import DataLoader, TensorDataset


class Encoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.proj = nn.Linear(8, 16)
        self.classifier = nn.Linear(16, 2)

    def forward(self, x):
        return self.classifier(torch.relu(self.proj(x)))


def main():
    generator = torch.Generator().manual_seed(0)
    dataset = TensorDataset(torch.randn(32, 8, generator=generator), torch.randint(0, 2, (32,), generator=generator))
    model = Encoder()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    model, optimizer, criterion, loader = PrivacyEngine().make_private(
        module=model, optimizer=optimizer, data_loader=DataLoader(dataset, batch_size=8),
        criterion=nn.CrossEntropyLoss(), noise_multiplier=1.0, max_grad_norm=1.0, grad_sample_mode="ghost",
    )
    setattr(model._module, "classifier", nn.Linear(16, 2))  # expect: DPL218
    for x, y in loader:
        optimizer.zero_grad()
        criterion(model(x), y).backward()
        optimizer.step()


CASE = {
    "script": "main",
    "runtime": "crash",
    "error": "_norm_sample",
    "opacus": ">=1.5",  # ghost clipping (make_private's criterion=) exists since 1.5
}

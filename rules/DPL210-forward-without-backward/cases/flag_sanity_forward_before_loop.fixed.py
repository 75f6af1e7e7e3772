"""A script that checks the output shape of the private model on one batch right after
`make_private`, before the training loop, with grad enabled: the hooks record that forward, no
backward consumes it, and the loop's first step raises."""

import torch
import torch.nn as nn
import torch.nn.functional as F
from opacus import PrivacyEngine
from torch.utils.data import DataLoader, TensorDataset


class ConvNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3)
        self.fc = nn.Linear(4 * 4 * 4, 10)

    def forward(self, x):
        return self.fc(F.relu(self.conv(x)).flatten(1))


def main(epochs=1):
    generator = torch.Generator().manual_seed(3)
    data = TensorDataset(torch.randn(32, 1, 6, 6, generator=generator), torch.randint(0, 10, (32,), generator=generator))
    model = ConvNet()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    model, optimizer, loader = PrivacyEngine().make_private(
        module=model, optimizer=optimizer, data_loader=DataLoader(data, batch_size=8),
        noise_multiplier=1.1, max_grad_norm=1.0,
    )
    sample, _ = next(iter(loader))
    with torch.no_grad():
        print("output shape", model(sample).shape)  # expect: DPL210
    for _ in range(epochs):
        for x, y in loader:
            optimizer.zero_grad()
            F.cross_entropy(model(x), y).backward()
            optimizer.step()


CASE = {
    "script": "main",
    "runtime": "crash",
    "error": "Per sample gradient is not initialized",
}

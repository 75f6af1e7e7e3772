"""The sanity check of the flag case made in eval mode (`model.eval()` ... `model.train()`): Opacus'
hooks record nothing for a module that is not training, so the loop trains."""

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
    model.eval()
    print("output shape", model(sample).shape)
    model.train()
    for _ in range(epochs):
        for x, y in loader:
            optimizer.zero_grad()
            F.cross_entropy(model(x), y).backward()
            optimizer.step()


CASE = {
    "script": "main",
    "runtime": "ok",
}

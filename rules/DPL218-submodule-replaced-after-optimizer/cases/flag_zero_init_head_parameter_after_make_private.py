"""A zero-initialised classifier (a common fine-tuning trick) written as a new `nn.Parameter` on the original
module after make_private. Opacus' hooks keep per-parameter state on the parameters they saw; the new one has
none: the first forward-backward raises."""

import torch
import torch.nn as nn
from opacus import PrivacyEngine
from torch.utils.data import DataLoader, TensorDataset


class Regressor(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(8, 16), nn.GELU())
        self.out = nn.Linear(16, 1)

    def forward(self, x):
        return self.out(self.body(x)).squeeze(-1)


def main(epochs=1):
    generator = torch.Generator().manual_seed(0)
    dataset = TensorDataset(torch.randn(32, 8, generator=generator), torch.randn(32, generator=generator))
    net = Regressor()
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-3)
    model, optimizer, loader = PrivacyEngine().make_private(
        module=net, optimizer=optimizer, data_loader=DataLoader(dataset, batch_size=8),
        noise_multiplier=0.8, max_grad_norm=1.0,
    )
    net.out.weight = nn.Parameter(torch.zeros(1, 16))  # expect: DPL218
    for _ in range(epochs):
        for x, y in loader:
            optimizer.zero_grad()
            nn.functional.mse_loss(model(x), y).backward()
            optimizer.step()


CASE = {
    "script": "main",
    "runtime": "crash",
    "error": "_forward_counter",
}

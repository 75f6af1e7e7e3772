"""Re-initialising the head after make_private *in place* (`nn.init.zeros_`, `reset_parameters()`) and loading
a checkpoint with `load_state_dict` keep the parameter objects the DP optimizer holds: it trains (measured,
opacus 1.4.1-1.6.0). Only a new module or a new `nn.Parameter` in their place breaks."""

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
    checkpoint = {k: v.clone() for k, v in net.state_dict().items()}
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-3)
    model, optimizer, loader = PrivacyEngine().make_private(
        module=net, optimizer=optimizer, data_loader=DataLoader(dataset, batch_size=8),
        noise_multiplier=0.8, max_grad_norm=1.0,
    )
    net.load_state_dict(checkpoint)
    nn.init.zeros_(net.out.weight)
    model._module.body[0].reset_parameters()
    for _ in range(epochs):
        for x, y in loader:
            optimizer.zero_grad()
            nn.functional.mse_loss(model(x), y).backward()
            optimizer.step()


CASE = {
    "script": "main",
    "runtime": "ok",
}

# A gating layer whose weight also scales the features directly: `self.gate.weight * h` next to
# `torch.sigmoid(self.gate(h))`. Measured on opacus 1.4.1, 1.5.4 and 1.6.0: no error; the gate.weight per-sample
# gradient is off by up to 0.16.
import torch
import torch.nn as nn


class GatedRegressor(nn.Module):
    def __init__(self, in_dim=4, dim=8):
        super().__init__()
        self.inp = nn.Linear(in_dim, dim)
        self.gate = nn.Linear(dim, 1)
        self.head = nn.Linear(dim, 3)

    def forward(self, x):
        h = torch.tanh(self.inp(x))
        h = self.gate.weight * h * torch.sigmoid(self.gate(h))  # expect: DPL106
        return self.head(h)


CASE = {
    "model": "GatedRegressor",
    "inputs": ["float[B, 4]"],
    "runtime": "silent",
}

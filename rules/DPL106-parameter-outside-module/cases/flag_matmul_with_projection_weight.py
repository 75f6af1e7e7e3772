# A projection applied with `torch.matmul(h, self.proj.weight)` next to its ordinary call
# `self.proj(h)` (a residual mixing the two). The matmul part never reaches the per-sample
# gradient Opacus computes in `self.proj`'s hooks. Measured on opacus 1.4.1, 1.5.4 and 1.6.0: no error; the
# proj.weight per-sample gradient is off by up to 0.28.
import torch
import torch.nn as nn


class MixingMLP(nn.Module):
    def __init__(self, in_dim=4, dim=8, out_dim=3):
        super().__init__()
        self.inp = nn.Linear(in_dim, dim)
        self.proj = nn.Linear(dim, dim)
        self.head = nn.Linear(dim, out_dim)

    def forward(self, x):
        h = torch.tanh(self.inp(x))
        h = self.proj(h) + torch.matmul(h, self.proj.weight)  # expect: DPL106
        return self.head(h)


CASE = {
    "model": "MixingMLP",
    "inputs": ["float[B, 4]"],
    "runtime": "silent",
}

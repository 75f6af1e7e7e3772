# Weight sharing by repeating one layer inside one container: `nn.Sequential(layer, act, layer)`
# (a universal-transformer-style recurrence) and `nn.ModuleList([cell] * n)`. Each container is
# one parent, which `children()` lists the object under once: Opacus hooks it once and counts
# its calls. Measured on opacus 1.6.0: per-sample gradients exact.
import torch
import torch.nn as nn


class Recurrent(nn.Module):
    def __init__(self, dim=8, steps=2):
        super().__init__()
        layer = nn.Linear(dim, dim)
        self.unrolled = nn.Sequential(layer, nn.Tanh(), layer)
        cell = nn.Linear(dim, dim)
        self.cells = nn.ModuleList([cell] * steps)
        self.head = nn.Linear(dim, 2)

    def forward(self, x):
        h = self.unrolled(x)
        for cell in self.cells:
            h = torch.tanh(cell(h))
        return self.head(h)


CASE = {
    "model": "Recurrent",
    "inputs": ["float[B, 8]"],
    "runtime": "ok",
}

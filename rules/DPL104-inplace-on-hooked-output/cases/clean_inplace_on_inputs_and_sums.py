# In-place operations that never touch a hooked output: a ReLU(inplace=True) first in a
# Sequential (it modifies the model input, which is no layer's output), `h += 0.1` on the sum
# of two branches, and `F.relu(..., inplace=True)` on a product.
# Measured on Opacus 1.6.0: trains, per-sample gradients exact. Not a DPL104 finding.
import torch.nn as nn
import torch.nn.functional as F


class TwoBranch(nn.Module):
    def __init__(self, dim=8, num_classes=3):
        super().__init__()
        self.pre = nn.Sequential(nn.ReLU(inplace=True), nn.Linear(dim, dim))
        self.left = nn.Linear(dim, dim)
        self.right = nn.Linear(dim, dim)
        self.head = nn.Linear(dim, num_classes)

    def forward(self, x):
        x = x.clone()
        h = self.pre(x)
        h = self.left(h) + self.right(h)
        h += 0.1
        g = F.relu(h * 2.0, inplace=True)
        return self.head(g)


CASE = {
    "model": "TwoBranch",
    "inputs": ["float[B, 8]"],
    "runtime": "ok",
}

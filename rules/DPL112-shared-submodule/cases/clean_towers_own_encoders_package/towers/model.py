# A two-tower model (two files) where each tower is handed an encoder built for it alone:
# `Tower(Encoder(dim))` twice. Each module has one parent; Opacus hooks each once.
# Measured on opacus 1.6.0: per-sample gradients exact.
import torch.nn as nn

from towers.parts import Encoder, Tower


class TwoTower(nn.Module):
    def __init__(self, dim=8):
        super().__init__()
        self.query = Tower(Encoder(dim), dim)
        encoder = Encoder(dim)
        self.doc = Tower(encoder, dim)
        self.head = nn.Linear(dim, 1)

    def forward(self, q, d):
        return self.head(self.query(q) * self.doc(d))


CASE = {
    "model": "TwoTower",
    "inputs": ["float[B, 8]", "float[B, 8]"],
    "runtime": "ok",
}

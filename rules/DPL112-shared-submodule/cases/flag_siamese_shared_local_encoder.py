# Mirrors a Siamese network whose two towers are built around one local encoder object:
# `encoder = Encoder(); self.left = Tower(encoder); self.right = Tower(encoder)`. Both towers
# register the encoder; Opacus hooks it once per parent and its per-sample gradients are
# accumulated twice (measured on opacus 1.6.0: silent mismatch, no error).
import torch.nn as nn


class Encoder(nn.Module):
    def __init__(self, dim=8):
        super().__init__()
        self.fc = nn.Linear(dim, dim)

    def forward(self, x):
        return self.fc(x).tanh()


class Tower(nn.Module):
    def __init__(self, encoder, dim=8):
        super().__init__()
        self.encoder = encoder
        self.proj = nn.Linear(dim, dim)

    def forward(self, x):
        return self.proj(self.encoder(x))


class Siamese(nn.Module):
    def __init__(self, dim=8):
        super().__init__()
        encoder = Encoder(dim)
        self.left = Tower(encoder, dim)
        self.right = Tower(encoder, dim)  # expect: DPL112
        self.head = nn.Linear(dim, 1)

    def forward(self, a, b):
        return self.head((self.left(a) - self.right(b)).abs())


CASE = {
    "model": "Siamese",
    "inputs": ["float[B, 8]", "float[B, 8]"],
    "runtime": "silent",
}

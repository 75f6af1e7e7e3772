import torch.nn as nn


class Block(nn.Module):
    """A transformer-style MLP block that applies a positional module it is given."""

    def __init__(self, dim, pos):
        super().__init__()
        self.pos = pos
        self.norm = nn.LayerNorm(dim)
        self.fc = nn.Linear(dim, dim)

    def forward(self, x):
        return x + self.fc(self.norm(self.pos(x)))

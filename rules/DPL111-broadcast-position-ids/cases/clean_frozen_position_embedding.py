# A transformer encoder whose position embedding is filled with a fixed sinusoidal table and frozen
# (`requires_grad_(False)`): it is looked up on `torch.arange(T)` without a batch dimension, but
# it has no per-sample gradient to compute, and Opacus trains the rest exactly (measured).
import math

import torch
import torch.nn as nn


def sinusoid_table(n_positions, dim):
    position = torch.arange(n_positions).unsqueeze(1)
    div = torch.exp(torch.arange(0, dim, 2) * (-math.log(10000.0) / dim))
    table = torch.zeros(n_positions, dim)
    table[:, 0::2] = torch.sin(position * div)
    table[:, 1::2] = torch.cos(position * div)
    return table


class Encoder(nn.Module):
    def __init__(self, vocab=50, dim=16, max_len=16, n_classes=3):
        super().__init__()
        self.tokens = nn.Embedding(vocab, dim)
        self.positions = nn.Embedding(max_len, dim)
        with torch.no_grad():
            self.positions.weight.copy_(sinusoid_table(max_len, dim))
        self.positions.requires_grad_(False)
        self.ff = nn.Sequential(nn.LayerNorm(dim), nn.Linear(dim, dim), nn.ReLU())
        self.head = nn.Linear(dim, n_classes)

    def forward(self, ids):
        pos = torch.arange(ids.size(1), device=ids.device)
        h = self.tokens(ids) + self.positions(pos)
        return self.head(self.ff(h).mean(dim=1))


CASE = {
    "model": "Encoder",
    "inputs": ["long[B, 12] < 50"],
    "runtime": "ok",
}

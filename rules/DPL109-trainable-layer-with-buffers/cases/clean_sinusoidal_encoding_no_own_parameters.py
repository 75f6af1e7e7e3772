"""The tutorial's sinusoidal positional encoding (a buffer) in a classifier that owns no raw
parameter: every trainable parameter lives in a torch layer, which holds no buffer."""

import math

import torch
import torch.nn as nn


class PositionalEncoding(nn.Module):
    def __init__(self, d_model, max_len=64):
        super().__init__()
        position = torch.arange(max_len).unsqueeze(1)
        div_term = torch.exp(torch.arange(0, d_model, 2) * (-math.log(10000.0) / d_model))
        pe = torch.zeros(1, max_len, d_model)
        pe[0, :, 0::2] = torch.sin(position * div_term)
        pe[0, :, 1::2] = torch.cos(position * div_term)
        self.register_buffer("pe", pe)

    def forward(self, x):
        return x + self.pe[:, : x.size(1)]


class SequenceClassifier(nn.Module):
    def __init__(self, n_features=6, d_model=16, n_classes=3):
        super().__init__()
        self.inp = nn.Linear(n_features, d_model)
        self.pos = PositionalEncoding(d_model)
        self.mix = nn.Sequential(nn.LayerNorm(d_model), nn.Linear(d_model, d_model), nn.GELU())
        self.head = nn.Linear(d_model, n_classes)

    def forward(self, x):
        h = self.pos(self.inp(x))
        h = h + self.mix(h)
        return self.head(h.mean(1))


CASE = {"model": "SequenceClassifier", "inputs": ["float[B, 10, 6]"], "runtime": "ok"}

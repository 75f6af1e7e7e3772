"""A sequence classifier with the PyTorch tutorial's sinusoidal positional encoding (a buffer)
and a learnable class token owned by the classifier itself."""

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
    def __init__(self, n_features, d_model, n_classes):
        super().__init__()
        self.inp = nn.Linear(n_features, d_model)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, d_model))
        self.pos = PositionalEncoding(d_model)
        self.mix = nn.Sequential(nn.LayerNorm(d_model), nn.Linear(d_model, d_model), nn.GELU())
        self.head = nn.Linear(d_model, n_classes)

    def forward(self, x):
        h = self.inp(x)
        h = torch.cat([self.cls_token.expand(h.size(0), -1, -1), h], dim=1)
        h = self.pos(h)
        h = h + self.mix(h)
        return self.head(h[:, 0])

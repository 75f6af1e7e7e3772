# The PyTorch tutorial's positional encoding module: a sinusoidal table registered as a buffer and added
# (sliced to the sequence length) to the token embeddings; no embedding looks positions up, and
# buffers have no gradient: exact per-sample gradients under Opacus (measured).
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


class TextClassifier(nn.Module):
    def __init__(self, vocab=50, d_model=16, n_classes=3):
        super().__init__()
        self.embedding = nn.Embedding(vocab, d_model)
        self.pos_encoder = PositionalEncoding(d_model)
        self.classifier = nn.Linear(d_model, n_classes)

    def forward(self, src):
        h = self.pos_encoder(self.embedding(src) * math.sqrt(16))
        return self.classifier(h.mean(dim=1))


CASE = {
    "model": "TextClassifier",
    "inputs": ["long[B, 12] < 50"],
    "runtime": "ok",
}

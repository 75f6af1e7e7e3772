# Mirrors a pre-norm Transformer block written by hand around opacus.layers.DPMultiheadAttention
# (what the Opacus tutorials suggest instead of nn.TransformerEncoderLayer): LayerNorm, attention,
# MLP, residuals, batch-first with one head. make_private accepts it and per-sample gradients are
# exact.
import torch.nn as nn
from opacus.layers import DPMultiheadAttention


class DPTransformerBlock(nn.Module):
    def __init__(self, dim=16, hidden=32):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim)
        self.attn = DPMultiheadAttention(dim, 1, batch_first=True)
        self.norm2 = nn.LayerNorm(dim)
        self.ff = nn.Sequential(nn.Linear(dim, hidden), nn.GELU(), nn.Linear(hidden, dim))

    def forward(self, x):
        h = self.norm1(x)
        x = x + self.attn(h, h, h, need_weights=False)[0]
        return x + self.ff(self.norm2(x))


class TextTransformer(nn.Module):
    def __init__(self, vocab_size=50, dim=16, num_classes=3):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, dim)
        self.block = DPTransformerBlock(dim)
        self.head = nn.Linear(dim, num_classes)

    def forward(self, tokens):
        return self.head(self.block(self.embed(tokens)).mean(dim=1))


CASE = {
    "model": "TextTransformer",
    "inputs": ["long[B, 8] < 50"],
    "runtime": "ok",
    "opacus": ">=1.5",  # on opacus < 1.5 DPMultiheadAttention(batch_first=True) crashes in torch.stack (DPL004)
}

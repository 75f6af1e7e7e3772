import torch.nn as nn
from opacus.layers import DPMultiheadAttention as Attention


class AttentionBlock(nn.Module):
    """Self-attention block; sequence-first unless told otherwise (like torch's layers)."""

    def __init__(self, dim: int, heads: int = 1, batch_first: bool = False):
        super().__init__()
        self.batch_first = batch_first
        self.attn = Attention(dim, heads, batch_first=self.batch_first)
        self.norm = nn.LayerNorm(dim)
        self.ff = nn.Sequential(nn.Linear(dim, 2 * dim), nn.GELU(), nn.Linear(2 * dim, dim))

    def forward(self, x):
        x = self.norm(x + self.attn(x, x, x)[0])
        return x + self.ff(x)

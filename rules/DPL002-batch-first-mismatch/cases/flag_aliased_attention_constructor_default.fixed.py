# Mirrors a Transformer block written once and reused: the attention class is imported under an
# alias and the block's `batch_first` comes from a constructor default (False, copied from
# torch's signature). The encoder builds the blocks without passing it, while the inputs are
# [batch, tokens, dim] and make_private runs with batch_first=True: attention mixes the samples
# of a batch, silently. Fix: default `batch_first=True` in the block (or pass it from the encoder).
import torch.nn as nn
from opacus.layers import DPMultiheadAttention as Attention


class Block(nn.Module):
    def __init__(self, dim, heads=1, batch_first=False):
        super().__init__()
        self.norm = nn.LayerNorm(dim)
        self.attn = Attention(dim, heads, batch_first=batch_first)  # expect: DPL002
        self.mlp = nn.Sequential(nn.Linear(dim, 2 * dim), nn.GELU(), nn.Linear(2 * dim, dim))

    def forward(self, x):
        h = self.norm(x)
        x = x + self.attn(h, h, h, need_weights=False)[0]
        return x + self.mlp(x)


class Encoder(nn.Module):
    def __init__(self, dim=16, depth=2):
        super().__init__()
        self.blocks = nn.Sequential(*[Block(dim, batch_first=True) for _ in range(depth)])
        self.head = nn.Linear(dim, 3)

    def forward(self, x):
        return self.head(self.blocks(x).mean(dim=1))


CASE = {
    "model": "Encoder",
    "inputs": ["float[B, 6, 16]"],
    "runtime": "silent",
}

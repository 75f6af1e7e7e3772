# Mirrors a ViT-style encoder whose blocks take `num_heads` as a required constructor parameter;
# the encoder passes num_heads=1, so every DPMultiheadAttention(batch_first=True) has one head
# and matches nn.MultiheadAttention: per-sample gradients are exact.
import torch.nn as nn
from opacus.layers import DPMultiheadAttention


class Block(nn.Module):
    def __init__(self, dim, num_heads):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim)
        self.attn = DPMultiheadAttention(dim, num_heads, batch_first=True)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = nn.Sequential(nn.Linear(dim, 2 * dim), nn.GELU(), nn.Linear(2 * dim, dim))

    def forward(self, x):
        h = self.norm1(x)
        x = x + self.attn(h, h, h, need_weights=False)[0]
        return x + self.mlp(self.norm2(x))


class TinyViT(nn.Module):
    def __init__(self, patch_dim=12, dim=16, depth=2, num_classes=10):
        super().__init__()
        self.patch_embed = nn.Linear(patch_dim, dim)
        self.blocks = nn.Sequential(*[Block(dim, num_heads=1) for _ in range(depth)])
        self.head = nn.Linear(dim, num_classes)

    def forward(self, patches):
        return self.head(self.blocks(self.patch_embed(patches)).mean(dim=1))


CASE = {
    "model": "TinyViT",
    "inputs": ["float[B, 9, 12]"],
    "runtime": "ok",
    "opacus": ">=1.5",  # on opacus < 1.5 DPMultiheadAttention(batch_first=True) crashes in torch.stack (DPL004)
}

# Mirrors a reusable Transformer block whose `batch_first` default (False) was copied from
# torch's signature; the model that uses it passes `batch_first=True` explicitly, matching its
# [batch, tokens, dim] inputs and make_private's default. Every layer agrees with the engine:
# per-sample gradients are exact. (One head: see DPL004 for several heads with batch_first=True.)
import torch.nn as nn
from opacus.layers import DPMultiheadAttention


class Block(nn.Module):
    def __init__(self, dim, heads=1, batch_first=False):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim)
        self.attn = DPMultiheadAttention(dim, heads, batch_first=batch_first)
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
        self.blocks = nn.ModuleList([Block(dim, heads=1, batch_first=True) for _ in range(depth)])
        self.head = nn.Linear(dim, num_classes)

    def forward(self, patches):  # [B, num_patches, patch_dim]
        x = self.patch_embed(patches)
        for block in self.blocks:
            x = block(x)
        return self.head(x.mean(dim=1))


CASE = {
    "model": "TinyViT",
    "inputs": ["float[B, 9, 12]"],
    "runtime": "ok",
    "opacus": ">=1.5",  # on opacus < 1.5 DPMultiheadAttention(batch_first=True) crashes in torch.stack (DPL004)
}

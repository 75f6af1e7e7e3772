# Mirrors a ViT-style encoder whose blocks take `num_heads` from a constructor default (4) and
# build DPMultiheadAttention(batch_first=True) for [batch, patches, dim] inputs. With opacus
# <= 1.6.0 every block's attention output is wrong (heads not moved back before the output
# projection); per-sample gradients look exact for the wrong model. Fix: num_heads=1, or the
# sequence-first layout on both the layer and the engine.
import torch.nn as nn
from opacus.layers import DPMultiheadAttention


class Block(nn.Module):
    def __init__(self, dim, num_heads=4):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim)
        self.attn = DPMultiheadAttention(dim, num_heads, batch_first=True)  # expect: DPL004
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
        self.blocks = nn.Sequential(*[Block(dim) for _ in range(depth)])
        self.head = nn.Linear(dim, num_classes)

    def forward(self, patches):
        return self.head(self.blocks(self.patch_embed(patches)).mean(dim=1))


CASE = {
    "model": "TinyViT",
    "inputs": ["float[B, 9, 12]"],
    "runtime": "silent",
    # opacus < 1.5: the batch-first layer crashes under the batch-first engine instead (issue #650).
    "versions": {"<1.5": {"runtime": "crash", "error": "stack expects each tensor to be equal size"}},
}

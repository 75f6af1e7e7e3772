# Mirrors a ViT whose patch embedding module owns the learned position table as a raw
# `nn.Parameter` (`PatchEmbed.pos_embed`), while the parent model adds it:
# `x + self.patch_embed.pos_embed[:, :n]`. Opacus differentiates `PatchEmbed` as one unit (its
# functorch fallback runs `PatchEmbed.forward`, which never touches `pos_embed`), so the
# position table's per-sample gradient comes out zero. Measured on opacus 1.4.1, 1.5.4 and 1.6.0: no error; the
# `patch_embed.pos_embed` per-sample gradient is off by up to 0.14.
import torch
import torch.nn as nn


class PatchEmbed(nn.Module):
    def __init__(self, patch_dim=12, dim=16, max_patches=16):
        super().__init__()
        self.proj = nn.Linear(patch_dim, dim)
        self.pos_embed = nn.Parameter(torch.randn(1, max_patches, dim) * 0.02)

    def forward(self, patches):
        return self.proj(patches)


class TinyViT(nn.Module):
    def __init__(self, dim=16, num_classes=5):
        super().__init__()
        self.patch_embed = PatchEmbed(dim=dim)
        self.norm = nn.LayerNorm(dim)
        self.mlp = nn.Linear(dim, dim)
        self.head = nn.Linear(dim, num_classes)

    def forward(self, patches):
        x = self.patch_embed(patches)
        x = x + self.patch_embed.pos_embed[:, : x.shape[1]]  # expect: DPL106
        x = x + self.mlp(self.norm(x)).tanh()
        return self.head(x.mean(dim=1))


CASE = {
    "model": "TinyViT",
    "inputs": ["float[B, 9, 12]"],
    "runtime": "silent",
}

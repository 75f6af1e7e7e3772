# timm-style ViT: the class token and the position table are raw `nn.Parameter`s of the model
# itself (`self.pos_embed[:, :n]`), not parameters of a submodule. A module with parameters of its
# own is differentiated by Opacus' functorch fallback as a whole, so the slice is seen.
# Measured on opacus 1.4.1, 1.5.4 and 1.6.0: per-sample gradients exact.
import torch
import torch.nn as nn


class TinyViT(nn.Module):
    def __init__(self, patch_dim=12, dim=16, max_patches=16, num_classes=5):
        super().__init__()
        self.patch_embed = nn.Linear(patch_dim, dim)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, dim))
        self.pos_embed = nn.Parameter(torch.randn(1, max_patches + 1, dim) * 0.02)
        self.norm = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, num_classes)

    def forward(self, patches):
        x = self.patch_embed(patches)
        cls = self.cls_token.expand(x.shape[0], -1, -1)
        x = torch.cat([cls, x], dim=1) + self.pos_embed[:, : x.shape[1] + 1]
        return self.head(self.norm(x)[:, 0])


CASE = {
    "model": "TinyViT",
    "inputs": ["float[B, 9, 12]"],
    "runtime": "ok",
}

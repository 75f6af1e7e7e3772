# Mirrors a small vision transformer whose patch positions are a learned nn.Embedding looked up with
# `torch.arange(num_patches)[None]` (shape [1, N]) and added to the patch tokens
# ([B, N, D]) that a strided Conv2d made. Opacus computes that embedding's per-sample gradients
# for a batch of one: optimizer.step() raises in torch.stack.
import torch
import torch.nn as nn


class PatchViT(nn.Module):
    def __init__(self, image_size=8, patch_size=4, channels=3, dim=16, num_classes=4):
        super().__init__()
        self.num_patches = (image_size // patch_size) ** 2
        self.patch_embed = nn.Conv2d(channels, dim, kernel_size=patch_size, stride=patch_size)
        self.pos_embed = nn.Embedding(self.num_patches, dim)
        self.norm = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, num_classes)

    def forward(self, images):
        x = self.patch_embed(images).flatten(2).transpose(1, 2)  # (B, N, D)
        positions = torch.arange(x.size(1), device=x.device)[None]
        x = x + self.pos_embed(positions.expand(x.size(0), -1))  # expect: DPL111
        return self.head(self.norm(x).mean(dim=1))


CASE = {
    "model": "PatchViT",
    "inputs": ["float[B, 3, 8, 8]"],
    "runtime": "crash",
    "error": "stack expects each tensor to be equal size",
}

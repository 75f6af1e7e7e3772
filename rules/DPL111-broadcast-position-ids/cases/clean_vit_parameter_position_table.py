# A ViT-style model whose positions are a raw `nn.Parameter` table of shape [1, N, D] added to the
# patch tokens (timm/minGPT style), not an embedding lookup: Opacus differentiates the class that
# owns the parameter as a whole (functorch), and the per-sample gradients are exact (measured).
import torch
import torch.nn as nn


class ViT(nn.Module):
    def __init__(self, image_size=8, patch_size=4, channels=3, dim=16, num_classes=4):
        super().__init__()
        num_patches = (image_size // patch_size) ** 2
        self.patch_embed = nn.Conv2d(channels, dim, kernel_size=patch_size, stride=patch_size)
        self.pos_embed = nn.Parameter(torch.zeros(1, num_patches, dim))
        self.norm = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, num_classes)

    def forward(self, images):
        x = self.patch_embed(images).flatten(2).transpose(1, 2)
        x = x + self.pos_embed
        return self.head(self.norm(x).mean(dim=1))


CASE = {
    "model": "ViT",
    "inputs": ["float[B, 3, 8, 8]"],
    "runtime": "ok",
}

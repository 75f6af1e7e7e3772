"""A tiny ViT built through a registry: the class token and the position table are raw
parameters of the ViT, and a helper method called from `__init__` registers the patch grid as
a buffer."""

import torch
import torch.nn as nn

MODELS = {}


def register(name):
    def add(cls):
        MODELS[name] = cls
        return cls
    return add


@register("vit_tiny")
class TinyViT(nn.Module):
    def __init__(self, image_size=8, patch=4, dim=16, classes=3):
        super().__init__()
        self.patch_embed = nn.Conv2d(3, dim, patch, stride=patch)
        num_patches = (image_size // patch) ** 2
        self.cls_token = nn.Parameter(torch.zeros(1, 1, dim))  # expect: DPL109
        self.pos_embed = nn.Parameter(torch.zeros(1, num_patches + 1, dim))
        self._init_grid(image_size // patch)
        self.mlp = nn.Sequential(nn.LayerNorm(dim), nn.Linear(dim, dim), nn.GELU(), nn.Linear(dim, dim))
        self.head = nn.Linear(dim, classes)

    def _init_grid(self, side):
        coords = torch.stack(torch.meshgrid(torch.arange(side), torch.arange(side), indexing="ij"))
        self.register_buffer("patch_grid", coords.flatten(1).t().float())

    def forward(self, x):
        x = self.patch_embed(x).flatten(2).transpose(1, 2)
        cls = self.cls_token.expand(x.shape[0], -1, -1)
        x = torch.cat([cls, x], dim=1) + self.pos_embed
        x = x + self.mlp(x)
        return self.head(x[:, 0])


def build_model(name="vit_tiny", **kwargs):
    return MODELS[name](**kwargs)


CASE = {
    "model": "build_model",
    "inputs": ["float[B, 3, 8, 8]"],
    "runtime": "crash",
    "error": "Model contains a trainable layer",
}

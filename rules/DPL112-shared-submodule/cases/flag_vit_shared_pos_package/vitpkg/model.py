# A small ViT-like model (two files) that builds one positional projection and hands it to every
# block: `pos = nn.Linear(dim, dim)`, then `Block(dim, pos)` twice. Each block registers it, so
# Opacus hooks it twice and its per-sample gradients are accumulated twice (measured on opacus
# 1.6.0: silent, no error).
import torch.nn as nn

from vitpkg.blocks import Block


class TinyViT(nn.Module):
    def __init__(self, dim=8, num_classes=3):
        super().__init__()
        self.embed = nn.Linear(4, dim)
        pos = nn.Linear(dim, dim)
        self.block1 = Block(dim, pos)
        self.block2 = Block(dim, pos)  # expect: DPL112
        self.head = nn.Linear(dim, num_classes)

    def forward(self, x):
        h = self.block2(self.block1(self.embed(x)))
        return self.head(h.mean(1))


CASE = {
    "model": "TinyViT",
    "inputs": ["float[B, 6, 4]"],
    "runtime": "silent",
}

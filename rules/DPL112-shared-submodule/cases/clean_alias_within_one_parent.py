# One module under two names of the same parent (`self.out_proj = self.proj`), as some attention
# code does for backward compatibility. `children()` lists an object once per parent, so Opacus
# hooks it once. Measured on opacus 1.6.0: per-sample gradients exact.
import torch.nn as nn


class Attention(nn.Module):
    def __init__(self, dim=8):
        super().__init__()
        self.qkv = nn.Linear(dim, dim)
        self.proj = nn.Linear(dim, dim)
        self.out_proj = self.proj  # legacy name

    def forward(self, x):
        return self.out_proj(self.qkv(x).tanh())


class Model(nn.Module):
    def __init__(self, dim=8):
        super().__init__()
        self.attn = Attention(dim)
        self.head = nn.Linear(dim, 2)

    def forward(self, x):
        return self.head(self.attn(x))


CASE = {
    "model": "Model",
    "inputs": ["float[B, 8]"],
    "runtime": "ok",
}

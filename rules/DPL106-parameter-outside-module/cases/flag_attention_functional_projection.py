# Mirrors attention code that applies its projection functionally, to pass the weights to a
# fused or custom kernel: `F.linear(x, self.qkv.weight, self.qkv.bias)`. `self.qkv` is never
# called, so Opacus' hooks never see it. Measured on opacus 1.4.1, 1.5.4 and 1.6.0: `ValueError: Per sample
# gradient is not initialized. Not updated in backward pass?` at optimizer.step().
import torch
import torch.nn as nn
import torch.nn.functional as F


class SelfAttention(nn.Module):
    def __init__(self, dim=16):
        super().__init__()
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x):
        q, k, v = F.linear(x, self.qkv.weight, self.qkv.bias).chunk(3, dim=-1)  # expect: DPL106
        attn = torch.softmax(q @ k.transpose(-2, -1) / q.shape[-1] ** 0.5, dim=-1)
        return self.proj(attn @ v)


class Encoder(nn.Module):
    def __init__(self, dim=16, num_classes=4):
        super().__init__()
        self.inp = nn.Linear(6, dim)
        self.attn = SelfAttention(dim)
        self.head = nn.Linear(dim, num_classes)

    def forward(self, x):
        h = self.inp(x)
        h = h + self.attn(h)
        return self.head(h.mean(dim=1))


CASE = {
    "model": "Encoder",
    "inputs": ["float[B, 7, 6]"],
    "runtime": "crash",
    "error": "Per sample gradient is not initialized",
}

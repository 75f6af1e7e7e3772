# Mirrors data2vec (Baevski et al., 2022): a student Transformer regresses the average of the
# teacher's top-K layer outputs on the unmasked input; the teacher is an EMA copy of the student.
# The targets are built in a helper method that ends in `.detach()` while the teacher runs with
# grad enabled and is not frozen, so the teacher's parameters never get per-sample gradients:
# DPOptimizer.step() raises "Per sample gradient is not initialized".
# Fix: freeze the teacher and decorate `_targets` with `@torch.no_grad()`.
import copy

import torch
from torch import nn
from torch.nn import functional as F

MASK_ID = 0


class Block(nn.Module):
    def __init__(self, dim, heads=2):
        super().__init__()
        self.heads = heads
        self.norm1 = nn.LayerNorm(dim)
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = nn.Sequential(nn.Linear(dim, 2 * dim), nn.GELU(), nn.Linear(2 * dim, dim))

    def forward(self, x):
        B, T, C = x.shape
        q, k, v = self.qkv(self.norm1(x)).reshape(B, T, 3, self.heads, C // self.heads).permute(2, 0, 3, 1, 4)
        attn = (q @ k.transpose(-2, -1) / (C // self.heads) ** 0.5).softmax(dim=-1)
        x = x + self.proj((attn @ v).transpose(1, 2).reshape(B, T, C))
        return x + self.mlp(self.norm2(x))


class Encoder(nn.Module):
    def __init__(self, vocab=50, dim=16, depth=3):
        super().__init__()
        self.embed = nn.Embedding(vocab, dim)
        self.layers = nn.ModuleList([Block(dim) for _ in range(depth)])

    def forward(self, tokens):
        hidden = [self.embed(tokens)]
        for layer in self.layers:
            hidden.append(layer(hidden[-1]))
        return hidden


class Data2Vec(nn.Module):
    def __init__(self, dim=16, top_k=2):
        super().__init__()
        self.student = Encoder(dim=dim)
        self.teacher = copy.deepcopy(self.student)  # expect: DPL003
        self.teacher.requires_grad_(False)
        self.regression_head = nn.Linear(dim, dim)
        self.top_k = top_k

    def _targets(self, tokens):
        layer_outputs = self.teacher(tokens)[-self.top_k :]
        y = sum(F.layer_norm(h, h.shape[-1:]) for h in layer_outputs) / self.top_k
        return y.detach()  # expect: DPL001

    def forward(self, tokens):
        mask = torch.zeros_like(tokens, dtype=torch.bool)
        mask[:, 1::3] = True
        x = self.student(tokens.masked_fill(mask, MASK_ID))[-1]
        pred = self.regression_head(x)
        target = self._targets(tokens)
        return ((pred - target) ** 2 * mask.unsqueeze(-1)).sum(dim=(1, 2))


CASE = {
    "model": "Data2Vec",
    "inputs": ["long[B, 7] < 50"],
    "runtime": "crash",
    "error": "Per sample gradient is not initialized",
}

# Mirrors data2vec (Baevski et al., 2022) done right: the EMA teacher is frozen with
# `requires_grad_(False)` and the targets (average of its top-K layer outputs, layer-normalised)
# are built in a `@torch.no_grad()` method, then detached once more for good measure. The teacher
# is frozen and never tracked by Opacus: the student's per-sample gradients are exact.
import copy

import torch
import torch.nn as nn
import torch.nn.functional as F

MASK_ID = 0


class FeedForwardBlock(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.norm = nn.LayerNorm(dim)
        self.ff = nn.Sequential(nn.Linear(dim, 2 * dim), nn.GELU(), nn.Linear(2 * dim, dim))

    def forward(self, x):
        return x + self.ff(self.norm(x))


class TextEncoder(nn.Module):
    def __init__(self, vocab=50, dim=16, depth=3):
        super().__init__()
        self.embed = nn.Embedding(vocab, dim)
        self.layers = nn.ModuleList(FeedForwardBlock(dim) for _ in range(depth))

    def forward(self, tokens):
        x = self.embed(tokens)
        states = []
        for layer in self.layers:
            x = layer(x)
            states.append(x)
        return states


class Data2Vec(nn.Module):
    def __init__(self, dim=16, top_k=2):
        super().__init__()
        self.student = TextEncoder(dim=dim)
        self.ema_teacher = copy.deepcopy(self.student)
        self.ema_teacher.requires_grad_(False)
        self.head = nn.Linear(dim, dim)
        self.top_k = top_k

    @torch.no_grad()
    def make_targets(self, tokens):
        top = self.ema_teacher(tokens)[-self.top_k :]
        y = sum(F.layer_norm(h, h.shape[-1:]) for h in top) / len(top)
        return y.detach()

    def forward(self, tokens):
        mask = torch.zeros_like(tokens, dtype=torch.bool)
        mask[:, ::3] = True
        pred = self.head(self.student(tokens.masked_fill(mask, MASK_ID))[-1])
        targets = self.make_targets(tokens)
        return ((pred - targets) ** 2).sum(-1).masked_fill(~mask, 0.0).sum(-1)


CASE = {
    "model": "Data2Vec",
    "inputs": ["long[B, 7] < 50"],
    "runtime": "ok",
}

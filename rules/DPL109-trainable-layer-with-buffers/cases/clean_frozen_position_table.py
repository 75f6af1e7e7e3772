"""A GPT whose fixed position table is a parameter built with `requires_grad=False`: the GPT
owns no trainable parameter, so its buffers do not matter to Opacus."""

import torch
import torch.nn as nn


class CausalMix(nn.Module):
    def __init__(self, width, block_size):
        super().__init__()
        self.proj = nn.Linear(width, width)
        self.register_buffer("mask", torch.tril(torch.ones(block_size, block_size)))

    def forward(self, x):
        T = x.size(1)
        weights = (x @ x.transpose(1, 2)).masked_fill(self.mask[:T, :T] == 0, float("-inf")).softmax(-1)
        return self.proj(weights @ x)


class GPT(nn.Module):
    def __init__(self, vocab=50, width=16, block_size=8):
        super().__init__()
        self.tok_emb = nn.Embedding(vocab, width)
        self.pos_emb = nn.Parameter(torch.randn(1, block_size, width) * 0.02, requires_grad=False)
        self.mix = CausalMix(width, block_size)
        self.head = nn.Linear(width, vocab)

    def forward(self, idx):
        x = self.tok_emb(idx) + self.pos_emb[:, : idx.size(1)]
        return self.head(x + self.mix(x))


CASE = {"model": "GPT", "inputs": ["long[B, 8] < 50"], "runtime": "ok"}

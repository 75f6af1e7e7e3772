"""The minGPT of the flag case with the position table moved into a small module of its own:
that module holds no buffer, and the GPT owns no parameter any more."""

from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F


@dataclass
class GPTConfig:
    vocab_size: int = 50
    block_size: int = 8
    n_embd: int = 16
    n_head: int = 2
    n_layer: int = 2


class CausalSelfAttention(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.qkv = nn.Linear(config.n_embd, 3 * config.n_embd)
        self.proj = nn.Linear(config.n_embd, config.n_embd)
        self.register_buffer("mask", torch.tril(torch.ones(config.block_size, config.block_size))
                             .view(1, 1, config.block_size, config.block_size))
        self.n_head = config.n_head

    def forward(self, x):
        B, T, C = x.size()
        q, k, v = self.qkv(x).split(C, dim=2)
        q, k, v = (t.view(B, T, self.n_head, C // self.n_head).transpose(1, 2) for t in (q, k, v))
        att = (q @ k.transpose(-2, -1)) / (k.size(-1) ** 0.5)
        att = att.masked_fill(self.mask[:, :, :T, :T] == 0, float("-inf"))
        y = F.softmax(att, dim=-1) @ v
        return self.proj(y.transpose(1, 2).contiguous().view(B, T, C))


class LearnedPositions(nn.Module):
    def __init__(self, block_size, n_embd):
        super().__init__()
        self.table = nn.Parameter(torch.zeros(1, block_size, n_embd))

    def forward(self, x):
        return x + self.table[:, : x.size(1), :]


class GPT(nn.Module):
    def __init__(self, config=GPTConfig()):
        super().__init__()
        self.tok_emb = nn.Embedding(config.vocab_size, config.n_embd)
        self.pos_emb = LearnedPositions(config.block_size, config.n_embd)
        self.blocks = nn.ModuleList([CausalSelfAttention(config) for _ in range(config.n_layer)])
        self.head = nn.Linear(config.n_embd, config.vocab_size, bias=False)

    def forward(self, idx):
        x = self.pos_emb(self.tok_emb(idx))
        for block in self.blocks:
            x = x + block(x)
        return self.head(x)


CASE = {
    "model": "GPT",
    "inputs": ["long[B, 8] < 50"],
    "runtime": "ok",
}

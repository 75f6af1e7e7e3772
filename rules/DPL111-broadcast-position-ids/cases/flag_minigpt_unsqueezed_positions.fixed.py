# Mirrors a minGPT-style language model whose positions get a leading dimension of one
# (`torch.arange(t).unsqueeze(0)`, shape [1, T]) and are added in one expression with the token
# embeddings, in a model built from a config object.
# The position embedding's per-sample gradients have one row instead of B: optimizer.step() raises
# `RuntimeError: stack expects each tensor to be equal size, but got [B] at entry 0 and [1] at entry 1`.
import torch
import torch.nn as nn


class Config:
    vocab_size = 50
    block_size = 16
    n_embd = 24


class MiniGPT(nn.Module):
    def __init__(self, cfg=Config):
        super().__init__()
        self.tok_emb = nn.Embedding(cfg.vocab_size, cfg.n_embd)
        self.pos_emb = nn.Embedding(cfg.block_size, cfg.n_embd)
        self.ln_f = nn.LayerNorm(cfg.n_embd)
        self.head = nn.Linear(cfg.n_embd, cfg.vocab_size)

    def forward(self, idx):
        positions = torch.arange(idx.size(1), device=idx.device).unsqueeze(0)
        x = self.tok_emb(idx) + self.pos_emb(positions.expand(idx.size(0), -1))  # expect: DPL111
        return self.head(self.ln_f(x).mean(dim=1))


CASE = {
    "model": "MiniGPT",
    "inputs": ["long[B, 12] < 50"],
    "runtime": "crash",
    "error": "stack expects each tensor to be equal size",
}

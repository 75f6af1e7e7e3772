# The nanoGPT-style model with its positions given the batch dimension before the lookup
# (`.unsqueeze(0).expand(b, -1)`, shape [B, T]): Opacus computes the position embedding's
# per-sample gradients exactly (measured), and ordinary training computes the same.
from dataclasses import dataclass

import torch
import torch.nn as nn


@dataclass
class GPTConfig:
    block_size: int = 16
    vocab_size: int = 50
    n_embd: int = 32


class GPT(nn.Module):
    def __init__(self, config=None):
        super().__init__()
        config = config or GPTConfig()
        self.config = config
        self.wte = nn.Embedding(config.vocab_size, config.n_embd)
        self.wpe = nn.Embedding(config.block_size, config.n_embd)
        self.ln_f = nn.LayerNorm(config.n_embd)
        self.lm_head = nn.Linear(config.n_embd, config.vocab_size, bias=False)

    def forward(self, idx):
        b, t = idx.size()
        pos = torch.arange(0, t, dtype=torch.long, device=idx.device).unsqueeze(0).expand(b, -1)
        x = self.wte(idx) + self.wpe(pos)
        return self.lm_head(self.ln_f(x)[:, -1, :])


CASE = {
    "model": "GPT",
    "inputs": ["long[B, 12] < 50"],
    "runtime": "ok",
}

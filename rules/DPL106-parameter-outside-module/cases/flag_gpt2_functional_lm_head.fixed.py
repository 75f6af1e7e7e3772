# Mirrors GPT-2 style code (`wte`/`wpe`) that computes the tied head in a helper method with
# `F.linear(hidden, self.wte.weight)` instead of a tied `nn.Linear`. The read is inside
# `self.lm_logits(...)`, which forward calls. Measured on opacus 1.4.1, 1.5.4 and 1.6.0: no error; the wte
# per-sample gradient misses the head's contribution (silently wrong).
import torch
import torch.nn as nn
import torch.nn.functional as F


class GPT2Small(nn.Module):
    def __init__(self, vocab_size=19, n_positions=8, n_embd=16):
        super().__init__()
        self.wte = nn.Embedding(vocab_size, n_embd)
        self.wte_head = torch.nn.Linear(self.wte.embedding_dim, self.wte.num_embeddings, bias=False)
        self.wte_head.weight = self.wte.weight
        self.wpe = nn.Embedding(n_positions, n_embd)
        self.h = nn.Linear(n_embd, n_embd)
        self.ln_f = nn.LayerNorm(n_embd)

    def lm_logits(self, hidden):
        return self.wte_head(hidden)  # expect: DPL106

    def forward(self, input_ids):
        positions = torch.arange(input_ids.shape[1], device=input_ids.device).expand_as(input_ids)
        hidden = self.wte(input_ids) + self.wpe(positions)
        hidden = self.ln_f(torch.tanh(self.h(hidden)))
        return self.lm_logits(hidden).mean(dim=1)


CASE = {
    "model": "GPT2Small",
    "inputs": ["long[B, 8] < 19"],
    "runtime": "silent",
}

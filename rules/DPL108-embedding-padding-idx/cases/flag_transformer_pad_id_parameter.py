# Mirrors a small transformer-style encoder whose token embedding takes the tokenizer's pad id as a
# constructor parameter (`pad_id=1`, as in fairseq/RoBERTa), plus learned positions. The pad id
# reaches `padding_idx` through the parameter default; Opacus ignores it (silently wrong per-sample
# gradients of the token embedding).
import torch
import torch.nn as nn


class TinyEncoder(nn.Module):
    def __init__(self, vocab_size=8, dim=16, max_len=12, pad_id=1):
        super().__init__()
        self.tok = nn.Embedding(vocab_size, dim, padding_idx=pad_id)  # expect: DPL108
        self.pos = nn.Embedding(max_len, dim)
        self.norm = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, 3)

    def forward(self, ids):
        positions = torch.arange(ids.shape[1], device=ids.device).expand(ids.shape[0], -1)
        h = self.norm(self.tok(ids) + self.pos(positions))
        return self.head(h[:, 0])


CASE = {
    "model": "TinyEncoder",
    "inputs": ["long[B, 12] < 8"],
    "runtime": "silent",
}

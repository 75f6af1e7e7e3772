# `padding_idx=None` and `scale_grad_by_freq=False` written out (torch's defaults, as generated
# configs often spell them): nothing for Opacus to ignore.
import torch.nn as nn


class Tagger(nn.Module):
    def __init__(self, vocab_size=8, dim=16, num_tags=4):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, dim, padding_idx=None, scale_grad_by_freq=False)
        self.proj = nn.Linear(dim, num_tags)

    def forward(self, tokens):
        return self.proj(self.embedding(tokens))


CASE = {
    "model": "Tagger",
    "inputs": ["long[B, 12] < 8"],
    "runtime": "ok",
}

# Mirrors a project that trains two models with two PrivacyEngine calls (train.py): the sentence
# encoder is sequence-first on both sides, but the tagger's attention keeps
# DPMultiheadAttention's default batch_first=False while its data and its make_private call are
# batch-first. The tagger's attention mixes the samples of each batch: no error, privacy void.
# Fix: DPMultiheadAttention(dim, 1, batch_first=True).
import torch.nn as nn
from opacus.layers import DPMultiheadAttention


class Tagger(nn.Module):
    def __init__(self, vocab_size=50, dim=16, num_tags=5):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, dim)
        self.attn = DPMultiheadAttention(dim, 1, batch_first=True)  # expect: DPL002
        self.tags = nn.Linear(dim, num_tags)

    def forward(self, tokens):  # tokens: [B, T]
        h = self.embed(tokens)
        return self.tags(h + self.attn(h, h, h)[0])


CASE = {
    "model": "Tagger",
    "inputs": ["long[B, 6] < 50"],
    "runtime": "silent",
}

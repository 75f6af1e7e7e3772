# Mirrors an encoder ported from fairseq-style code: a `Permute(1, 0, 2)` module turns the
# [batch, tokens, dim] batch time-major before a DPMultiheadAttention with its default
# batch_first=False. The attention itself is right, but its projections run on
# [tokens, batch, dim] tensors, and make_private's default batch_first=True makes Opacus take the
# tokens as the batch for them. Setting batch_first=True on the layer alone would make it attend
# across the batch instead: the remedy is the engine's batch_first (with every layer fed
# time-major data) or dropping the permutes, not one argument.
import torch.nn as nn
from opacus.layers import DPMultiheadAttention


class Permute(nn.Module):
    def __init__(self, *dims):
        super().__init__()
        self.dims = dims

    def forward(self, x):
        return x.permute(*self.dims)


class SelfAttention(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.attn = DPMultiheadAttention(dim, 1)  # expect: DPL002

    def forward(self, x):
        return self.attn(x, x, x)[0]


class PermutedEncoder(nn.Module):
    def __init__(self, vocab_size=50, dim=16, classes=4):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, dim)
        self.body = nn.Sequential(Permute(1, 0, 2), SelfAttention(dim), Permute(1, 0, 2))
        self.head = nn.Linear(dim, classes)

    def forward(self, tokens):
        return self.head(self.body(self.embed(tokens)).mean(dim=1))


CASE = {
    "model": "PermutedEncoder",
    "inputs": ["long[B, 7] < 50"],
    "runtime": "crash",
    "error": "stack expects each tensor to be equal size",
}

# Mirrors a word2vec skip-gram model (the PyTorch word2vec implementations pass
# `scale_grad_by_freq=True` to damp frequent words). Opacus' embedding grad sampler does not divide
# by the token counts: per-sample gradients differ from PyTorch's, silently.
import torch.nn as nn


class SkipGram(nn.Module):
    def __init__(self, vocab_size=8, dim=16):
        super().__init__()
        self.center = nn.Embedding(vocab_size, dim, scale_grad_by_freq=True)  # expect: DPL108
        self.context = nn.Embedding(vocab_size, dim, scale_grad_by_freq=True)  # expect: DPL108

    def forward(self, center_ids, context_ids):
        return (self.center(center_ids) * self.context(context_ids)).sum(dim=-1)


CASE = {
    "model": "SkipGram",
    "inputs": ["long[B, 6] < 8", "long[B, 6] < 8"],
    "runtime": "silent",
}

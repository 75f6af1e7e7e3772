# Mirrors a batch-first attention-pooling classifier with a single head: with one head the
# heads' layout cannot be scrambled, so DPMultiheadAttention(batch_first=True) matches
# nn.MultiheadAttention with the same weights, and per-sample gradients are exact.
import torch.nn as nn
from opacus.layers import DPMultiheadAttention


class TextClassifier(nn.Module):
    def __init__(self, vocab_size=50, dim=16, num_classes=4):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, dim)
        self.attn = DPMultiheadAttention(dim, num_heads=1, batch_first=True)
        self.head = nn.Linear(dim, num_classes)

    def forward(self, tokens):
        h = self.embed(tokens)
        h, _ = self.attn(h, h, h)
        return self.head(h.mean(dim=1))


CASE = {
    "model": "TextClassifier",
    "inputs": ["long[B, 7] < 50"],
    "runtime": "ok",
    "opacus": ">=1.5",  # on opacus < 1.5 DPMultiheadAttention(batch_first=True) crashes in torch.stack (DPL004)
}

# Mirrors a small batch-first text classifier with DPMultiheadAttention(batch_first=True) and two
# heads. In opacus <= 1.6.0 the batch-first path reshapes the heads' output straight to
# [batch, tokens, dim] without moving the heads back next to each other, so the layer computes a
# different function from nn.MultiheadAttention with the same weights (~0.5 off). Training runs,
# and the per-sample gradients are exact gradients of that wrong function: only a comparison with
# torch's attention shows it. Fix: batch_first=False with [tokens, batch, dim] inputs (and the
# engine's batch_first=False), or num_heads=1.
import torch.nn as nn
from opacus.layers import DPMultiheadAttention


class TextClassifier(nn.Module):
    def __init__(self, vocab_size=50, dim=16, num_classes=4):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, dim)
        self.attn = DPMultiheadAttention(dim, 2, batch_first=True)  # expect: DPL004
        self.head = nn.Linear(dim, num_classes)

    def forward(self, tokens):
        h = self.embed(tokens)
        h, _ = self.attn(h, h, h)
        return self.head(h.mean(dim=1))


CASE = {
    "model": "TextClassifier",
    "inputs": ["long[B, 7] < 50"],
    "runtime": "silent",
    # opacus < 1.5: the batch-first layer crashes under the batch-first engine instead (issue #650).
    "versions": {"<1.5": {"runtime": "crash", "error": "stack expects each tensor to be equal size"}},
}

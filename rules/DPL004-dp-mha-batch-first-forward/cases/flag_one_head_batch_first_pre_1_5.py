# Mirrors a batch-first attention-pooling classifier with one head, pinned to an Opacus release
# before 1.5 (research code often pins 1.4.x). There, DPMultiheadAttention(batch_first=True) under
# the default batch-first engine hands sequence-first tensors to its internal linear layers, and the
# first optimizer.step() fails in torch.stack ("stack expects each tensor to be equal size"; opacus
# issue #650, fixed by PR #651 in 1.5). Its twin on >= 1.5 is clean_one_head_batch_first.py.
# Fix: upgrade to opacus >= 1.5, or keep the layer and the engine sequence-first.
import torch.nn as nn
from opacus.layers import DPMultiheadAttention


class TextClassifier(nn.Module):
    def __init__(self, vocab_size=50, dim=16, num_classes=4):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, dim)
        self.attn = DPMultiheadAttention(dim, num_heads=1, batch_first=True)  # expect: DPL004
        self.head = nn.Linear(dim, num_classes)

    def forward(self, tokens):
        h = self.embed(tokens)
        h, _ = self.attn(h, h, h)
        return self.head(h.mean(dim=1))


CASE = {
    "model": "TextClassifier",
    "inputs": ["long[B, 7] < 50"],
    "opacus": "<1.5",
    "runtime": "crash",
    "error": "stack expects each tensor to be equal size",
}

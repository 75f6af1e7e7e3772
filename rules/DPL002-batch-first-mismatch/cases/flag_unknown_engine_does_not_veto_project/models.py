# Mirrors opacus' own tests/mixed_precision_utils.py: an AttentionModel built on a default
# DPMultiheadAttention (batch_first=False) fed [batch, tokens, dim] data. The mixed-precision test
# wraps it with GradSampleModule's default batch_first=True, so the layer takes the batch as the
# sequence and the samples attend to each other: no error, per-sample gradients silently wrong.
# Another test elsewhere builds its engine with `batch_first=self.BATCH_FIRST`, a value dp-lint
# cannot read: that unknown engine must not hide the known one.
import torch.nn as nn
from opacus.layers import DPMultiheadAttention


class AttentionModel(nn.Module):
    def __init__(self, vocab_size=50, dim=16, classes=4):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, dim)
        self.attn = DPMultiheadAttention(dim, 1)  # expect: DPL002
        self.fc = nn.Linear(dim, classes)

    def forward(self, tokens):
        h = self.embed(tokens)
        h, _ = self.attn(h, h, h)
        return self.fc(h.mean(dim=1))


CASE = {
    "model": "AttentionModel",
    "inputs": ["long[B, 7] < 50"],
    "runtime": "silent",
}

# Mirrors an attention-pooling classifier built on torch's nn.MultiheadAttention (batch-first).
# nn.MultiheadAttention computes its projections with fused functional calls on raw parameters
# that Opacus' hooks cannot see per sample: ModuleValidator refuses it and make_private raises
# UnsupportedModuleError. Fix: opacus.layers.DPMultiheadAttention with the same arguments.
import torch.nn as nn


class AttentionPoolClassifier(nn.Module):
    def __init__(self, vocab_size=50, dim=16, num_classes=4):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, dim)
        self.attn = nn.MultiheadAttention(dim, 2, batch_first=True)  # expect: DPL103
        self.head = nn.Linear(dim, num_classes)

    def forward(self, tokens):
        h = self.embed(tokens)
        h, _ = self.attn(h, h, h)
        return self.head(h.mean(dim=1))


CASE = {
    "model": "AttentionPoolClassifier",
    "inputs": ["long[B, 7] < 50"],
    "runtime": "crash",
    "error": "We do not support nn.MultiheadAttention",
}

# Mirrors the Opacus port of an attention-pooling classifier: DPMultiheadAttention (same
# arguments as nn.MultiheadAttention, projections as nn.Linear layers the hooks see) with one head
# and batch_first=True. make_private accepts it and per-sample gradients are exact. (One head:
# see DPL004 for several heads with batch_first=True.)
import torch.nn as nn
from opacus.layers import DPMultiheadAttention


class AttentionPoolClassifier(nn.Module):
    def __init__(self, vocab_size=50, dim=16, num_classes=4):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, dim)
        self.attn = DPMultiheadAttention(dim, 1, batch_first=True)
        self.head = nn.Linear(dim, num_classes)

    def forward(self, tokens):
        h = self.embed(tokens)
        h, _ = self.attn(h, h, h)
        return self.head(h.mean(dim=1))


CASE = {
    "model": "AttentionPoolClassifier",
    "inputs": ["long[B, 7] < 50"],
    "runtime": "ok",
    "opacus": ">=1.5",  # on opacus < 1.5 DPMultiheadAttention(batch_first=True) crashes in torch.stack (DPL004)
}

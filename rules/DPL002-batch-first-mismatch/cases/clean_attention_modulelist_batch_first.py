# Mirrors a stack of attention layers built in an nn.ModuleList comprehension, each with
# DPMultiheadAttention(batch_first=True) for [batch, tokens, dim] embeddings, under
# make_private's default batch_first=True. Layers and engine agree: per-sample gradients are
# exact. (One head: see DPL004 for several heads with batch_first=True.)
import torch.nn as nn
from opacus.layers import DPMultiheadAttention


class AttentionStack(nn.Module):
    def __init__(self, vocab_size=40, dim=16, depth=2, num_classes=3):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, dim)
        self.layers = nn.ModuleList(
            [DPMultiheadAttention(dim, 1, batch_first=True) for _ in range(depth)]
        )
        self.head = nn.Linear(dim, num_classes)

    def forward(self, tokens):
        h = self.embed(tokens)
        for layer in self.layers:
            h = h + layer(h, h, h)[0]
        return self.head(h.mean(dim=1))


CASE = {
    "model": "AttentionStack",
    "inputs": ["long[B, 8] < 40"],
    "runtime": "ok",
    "opacus": ">=1.5",  # on opacus < 1.5 DPMultiheadAttention(batch_first=True) crashes in torch.stack (DPL004)
}

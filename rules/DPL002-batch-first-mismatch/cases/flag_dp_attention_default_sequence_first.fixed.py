# Mirrors a small text classifier whose attention pooling uses Opacus' DPMultiheadAttention with
# its default layout. Like nn.MultiheadAttention, DPMultiheadAttention defaults to
# batch_first=False, but the data loader yields [batch, tokens] and make_private assumes
# batch_first=True: the layer takes the batch as the sequence, so every sample attends to the
# other samples of the batch. No error is raised; per-sample gradients (and privacy) are void.
# Fix: DPMultiheadAttention(..., batch_first=True).
import torch.nn as nn
from opacus.layers import DPMultiheadAttention


class AttentionPoolClassifier(nn.Module):
    def __init__(self, vocab_size=50, dim=16, num_classes=4):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, dim)
        self.attn = DPMultiheadAttention(dim, 1, batch_first=True)  # expect: DPL002
        self.head = nn.Linear(dim, num_classes)

    def forward(self, tokens):
        h = self.embed(tokens)  # [B, T, dim]
        h, _ = self.attn(h, h, h)
        return self.head(h.mean(dim=1))


CASE = {
    "model": "AttentionPoolClassifier",
    "inputs": ["long[B, 7] < 50"],
    "runtime": "silent",
}

# Mirrors a sequence-first tagging project (torchtext-era layout: batches are [tokens, batch]):
# DPLSTM and DPMultiheadAttention keep their default batch_first=False, and the training script
# in another package tells make_private `batch_first=False`. Layer and engine agree, so every
# layer's per-sample gradients are taken over the right dimension: exact. (Several heads are
# fine in the sequence-first layout.)
import torch.nn as nn
from opacus.layers import DPLSTM, DPMultiheadAttention


class SequenceTagger(nn.Module):
    def __init__(self, vocab_size=50, embed_dim=8, hidden=16, heads=2, num_tags=5):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, embed_dim)
        self.lstm = DPLSTM(embed_dim, hidden)
        self.attn = DPMultiheadAttention(hidden, heads)
        self.tags = nn.Linear(hidden, num_tags)

    def forward(self, tokens):  # tokens: [T, B]
        h, _ = self.lstm(self.embed(tokens))
        a, _ = self.attn(h, h, h)
        return self.tags(h + a)


CASE = {
    "model": "SequenceTagger",
    "inputs": ["long[7, B] < 50"],
    "batch_first": False,
    "runtime": "ok",
}

# Mirrors a project whose model package and training script were updated separately: the text
# classifier was ported to batch-first inputs ([batch, tokens]) with
# DPMultiheadAttention(batch_first=True), but train/run.py still calls make_private with
# batch_first=False, copied from a sequence-first example. Opacus then takes dimension 1 as the
# batch for every layer: for the attention that is the token position (one "per-sample"
# gradient per token, silently), for the classifier's [batch, features] input the feature
# dimension, and computing its per-sample gradients fails with an einsum shape error.
# Fix: drop `batch_first=False` from the make_private call.
import torch.nn as nn
from opacus.layers import DPMultiheadAttention


class TextClassifier(nn.Module):
    def __init__(self, vocab_size=50, dim=16, num_classes=4):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, dim)
        self.attn = DPMultiheadAttention(dim, 1, batch_first=True)  # expect: DPL002
        self.classifier = nn.Linear(dim, num_classes)

    def forward(self, tokens):
        h = self.embed(tokens)
        h, _ = self.attn(h, h, h)
        return self.classifier(h.mean(dim=1))


CASE = {
    "model": "TextClassifier",
    "kwargs": {"vocab_size": 50},
    "inputs": ["long[B, 7] < 50"],
    "batch_first": False,
    "runtime": "crash",
    "error": "einsum",
    "versions": {"<1.5": {"error": "Size of label"}},  # the same crash, raised before the einsum call
}

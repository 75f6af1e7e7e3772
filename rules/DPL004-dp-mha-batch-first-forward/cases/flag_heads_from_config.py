# Mirrors a model configured by a dataclass (`cfg.num_heads`), a pattern static analysis cannot
# evaluate: the attention is batch-first and its head count is unknown, so it may well be > 1
# (here 2, the config's default). With opacus <= 1.6.0 DPMultiheadAttention(batch_first=True)
# then computes a wrong output, silently. Fix: num_heads=1, or the sequence-first layout on both
# the layer and the engine.
from dataclasses import dataclass

import torch.nn as nn
from opacus.layers import DPMultiheadAttention


@dataclass
class EncoderConfig:
    vocab_size: int = 60
    dim: int = 16
    num_heads: int = 2
    num_labels: int = 3


class SentenceEncoder(nn.Module):
    def __init__(self, cfg=None):
        super().__init__()
        cfg = cfg or EncoderConfig()
        self.embed = nn.Embedding(cfg.vocab_size, cfg.dim)
        self.attn = DPMultiheadAttention(  # expect: DPL004
            cfg.dim, cfg.num_heads, batch_first=True
        )
        self.classifier = nn.Linear(cfg.dim, cfg.num_labels)

    def forward(self, tokens):
        h = self.embed(tokens)
        return self.classifier(self.attn(h, h, h)[0][:, 0])


CASE = {
    "model": "SentenceEncoder",
    "inputs": ["long[B, 8] < 60"],
    "runtime": "silent",
    # opacus < 1.5: the batch-first layer crashes under the batch-first engine instead (issue #650).
    "versions": {"<1.5": {"runtime": "crash", "error": "stack expects each tensor to be equal size"}},
}

# Twin of flag_unknown_engine_does_not_veto_project: the one-head DPMultiheadAttention is
# batch_first=True, as the [batch, tokens, dim] data and GradSampleModule's default batch_first=True
# of the known engine; the unknown engine (`batch_first=self.BATCH_FIRST`) elsewhere changes
# nothing. Per-sample gradients are exact.
import torch.nn as nn
from opacus.layers import DPMultiheadAttention


class AttentionModel(nn.Module):
    def __init__(self, vocab_size=50, dim=16, classes=4):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, dim)
        self.attn = DPMultiheadAttention(dim, 1, batch_first=True)
        self.fc = nn.Linear(dim, classes)

    def forward(self, tokens):
        h = self.embed(tokens)
        h, _ = self.attn(h, h, h)
        return self.fc(h.mean(dim=1))


CASE = {
    "model": "AttentionModel",
    "inputs": ["long[B, 7] < 50"],
    "runtime": "ok",
}

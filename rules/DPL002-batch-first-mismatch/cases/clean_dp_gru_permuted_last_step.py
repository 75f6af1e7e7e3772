# Mirrors a character model whose forward permutes the embedded batch to time-major
# (`permute(1, 0, 2)`) for a DPGRU with its default layout and classifies from the last step
# (`out[-1]`). The data the layer gets is sequence-first, as the layer expects; DPGRU runs step by
# step on [batch, features] slices and Opacus' per-sample gradients are exact.
import torch.nn as nn
from opacus.layers import DPGRU


class LastStepClassifier(nn.Module):
    def __init__(self, num_chars=30, embed_dim=8, hidden=12, classes=5):
        super().__init__()
        self.embed = nn.Embedding(num_chars, embed_dim)
        self.gru = DPGRU(embed_dim, hidden, batch_first=False)
        self.out = nn.Linear(hidden, classes)

    def forward(self, chars):
        h = self.embed(chars).permute(1, 0, 2)
        out, h_n = self.gru(h)
        return self.out(out[-1])


CASE = {
    "model": "LastStepClassifier",
    "inputs": ["long[B, 9] < 30"],
    "runtime": "ok",
}

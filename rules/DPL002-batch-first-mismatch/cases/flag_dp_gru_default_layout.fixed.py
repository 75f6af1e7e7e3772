# Mirrors a character-level name classifier (the classic PyTorch tutorial task) ported to Opacus
# by swapping nn.GRU for DPGRU, keeping its default batch_first=False while the padded batches
# are [batch, chars]. The GRU takes the batch as time and recurs across the samples, and its
# per-sample gradients get one row per character position while make_private's default
# batch_first=True gives the other layers one row per sample: DPOptimizer.step() fails in
# torch.stack. Fix: DPGRU(..., batch_first=True).
import torch.nn as nn
from opacus.layers import DPGRU


class NameClassifier(nn.Module):
    def __init__(self, num_chars=30, embed_dim=8, hidden=12, num_languages=6):
        super().__init__()
        self.embed = nn.Embedding(num_chars, embed_dim)
        self.gru = DPGRU(embed_dim, hidden, batch_first=True)  # expect: DPL002
        self.out = nn.Linear(hidden, num_languages)

    def forward(self, chars):
        out, _ = self.gru(self.embed(chars))
        return self.out(out[:, -1])


CASE = {
    "model": "NameClassifier",
    "inputs": ["long[B, 9] < 30"],
    "runtime": "crash",
    "error": "stack expects each tensor to be equal size",
}

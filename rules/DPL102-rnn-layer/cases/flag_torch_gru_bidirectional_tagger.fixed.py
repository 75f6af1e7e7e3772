# Mirrors a bidirectional GRU sequence tagger (per-token labels), batch-first. nn.GRU is refused
# by ModuleValidator: make_private raises UnsupportedModuleError. Fix: opacus.layers.DPGRU with
# the same arguments (bidirectional is supported).
import torch.nn as nn
from opacus.layers import DPGRU


class GRUTagger(nn.Module):
    def __init__(self, vocab_size=50, embed_dim=8, hidden=6, num_tags=5):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, embed_dim)
        self.gru = DPGRU(embed_dim, hidden, batch_first=True, bidirectional=True)  # expect: DPL102
        self.tags = nn.Linear(2 * hidden, num_tags)

    def forward(self, tokens):
        out, _ = self.gru(self.embed(tokens))
        return self.tags(out)


CASE = {
    "model": "GRUTagger",
    "inputs": ["long[B, 7] < 50"],
    "runtime": "crash",
    "error": "We do not support nn.GRU",
    # Before 1.6 GradSampleModule does not refuse nn.GRU; its functorch fallback crashes.
    "versions": {"<1.6": {"error": "doesn't match the broadcast shape"}},
}

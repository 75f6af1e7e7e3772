# Mirrors a seq2seq model that shares its token embedding module between the model and the
# decoder: `self.embed = nn.Embedding(...)` and `self.decoder = Decoder(self.embed, ...)`, which
# stores it as `self.tok`. Registered under two parents, the Embedding is hooked twice and its
# per-sample gradient comes out doubled (measured on opacus 1.6.0: silent, no error).
# Module-level weight tying (`head.weight = embed.weight`) would be fine; sharing the module is not.
import torch.nn as nn


class Decoder(nn.Module):
    def __init__(self, tok, dim):
        super().__init__()
        self.tok = tok
        self.mix = nn.Linear(dim, dim)

    def forward(self, ids):
        return self.mix(self.tok(ids)).mean(1)


class Seq2Seq(nn.Module):
    def __init__(self, vocab=20, dim=8):
        super().__init__()
        self.embed = nn.Embedding(vocab, dim)
        self.decoder = Decoder(self.embed, dim)  # expect: DPL112
        self.out = nn.Linear(dim, vocab)

    def forward(self, src, tgt):
        memory = self.embed(src).mean(1)
        return self.out(memory + self.decoder(tgt))


CASE = {
    "model": "Seq2Seq",
    "inputs": ["long[B, 5] < 20", "long[B, 4] < 20"],
    "runtime": "silent",
}

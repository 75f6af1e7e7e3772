# The matmul tie `h @ self.tok_emb.weight.t()` in a class that also holds a raw `nn.Parameter`
# of its own (a learned position table). Opacus then differentiates the whole class with its
# functorch fallback (it does not hook the submodules one by one), which sees the direct use.
# Measured on opacus 1.4.1, 1.5.4 and 1.6.0: per-sample gradients exact.
import torch
import torch.nn as nn


class TiedLM(nn.Module):
    def __init__(self, vocab_size=11, block_size=8, d_model=8):
        super().__init__()
        self.tok_emb = nn.Embedding(vocab_size, d_model)
        self.pos = nn.Parameter(torch.randn(1, block_size, d_model) * 0.1)
        self.mix = nn.Linear(d_model, d_model)

    def forward(self, idx):
        h = torch.tanh(self.mix(self.tok_emb(idx) + self.pos[:, : idx.shape[1]]))
        return (h @ self.tok_emb.weight.t()).mean(dim=1)


CASE = {
    "model": "TiedLM",
    "inputs": ["long[B, 6] < 11"],
    "runtime": "ok",
}

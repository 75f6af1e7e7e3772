# A tied head over a frozen (pretrained) embedding: `h @ self.tok_emb.weight.t()` with
# `self.tok_emb.requires_grad_(False)`. A frozen parameter needs no per-sample gradient.
# Measured on opacus 1.4.1, 1.5.4 and 1.6.0: per-sample gradients exact (the trainable layers).
import torch
import torch.nn as nn


class FrozenEmbeddingLM(nn.Module):
    def __init__(self, vocab_size=17, d_model=16):
        super().__init__()
        self.tok_emb = nn.Embedding(vocab_size, d_model)
        self.tok_emb.requires_grad_(False)
        self.adapter = nn.Linear(d_model, d_model)

    def forward(self, idx):
        h = torch.tanh(self.adapter(self.tok_emb(idx)))
        return (h @ self.tok_emb.weight.t()).mean(dim=1)


CASE = {
    "model": "FrozenEmbeddingLM",
    "inputs": ["long[B, 8] < 17"],
    "runtime": "ok",
}

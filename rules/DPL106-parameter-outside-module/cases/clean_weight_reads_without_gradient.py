# Reads of a submodule's parameters that carry no gradient: its shape and dtype, a `bias is not
# None` test, a detached copy, and a norm computed under `torch.no_grad()`. The modules themselves
# are called. Measured on opacus 1.4.1, 1.5.4 and 1.6.0: per-sample gradients exact.
import torch
import torch.nn as nn


class ScaledEncoder(nn.Module):
    def __init__(self, vocab_size=17, d_model=16, num_classes=3):
        super().__init__()
        self.tok_emb = nn.Embedding(vocab_size, d_model)
        self.proj = nn.Linear(d_model, d_model)
        self.head = nn.Linear(d_model, num_classes)

    def forward(self, idx):
        h = self.tok_emb(idx) * self.tok_emb.weight.shape[1] ** -0.5
        h = h.to(self.proj.weight.dtype)
        if self.proj.bias is not None:
            h = self.proj(h)
        with torch.no_grad():
            scale = self.tok_emb.weight.norm(dim=1).mean()
        anchor = self.head.weight.detach().mean()
        return self.head(torch.tanh(h / scale).mean(dim=1)) + anchor


CASE = {
    "model": "ScaledEncoder",
    "inputs": ["long[B, 8] < 17"],
    "runtime": "ok",
}

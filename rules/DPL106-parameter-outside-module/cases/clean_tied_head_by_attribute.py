# The GPT tie written through module attributes: `self.lm_head.weight = self.tok_emb.weight`, then
# `self.lm_head(x)`. Both modules are called; each adds its part of the shared parameter's
# per-sample gradient in its own hooks. Measured on opacus 1.4.1, 1.5.4 and 1.6.0 (hooks mode): per-sample
# gradients exact. (Ghost mode on 1.6.0 refuses it at the first forward: `NotImplementedError: Parameter tying
# is not supported with Ghost Clipping`.)
import torch
import torch.nn as nn


class TinyGPT(nn.Module):
    def __init__(self, vocab_size=17, block_size=8, d_model=16):
        super().__init__()
        self.tok_emb = nn.Embedding(vocab_size, d_model)
        self.pos_emb = nn.Embedding(block_size, d_model)
        self.mlp = nn.Linear(d_model, d_model)
        self.ln_f = nn.LayerNorm(d_model)
        self.lm_head = nn.Linear(d_model, vocab_size, bias=False)
        self.lm_head.weight = self.tok_emb.weight

    def forward(self, idx):
        b, t = idx.shape
        pos = torch.arange(t, device=idx.device).expand(b, -1)
        x = self.tok_emb(idx) + self.pos_emb(pos)
        x = self.ln_f(x + torch.tanh(self.mlp(x)))
        return self.lm_head(x)[:, -1]


CASE = {
    "model": "TinyGPT",
    "inputs": ["long[B, 8] < 17"],
    "runtime": "ok",
}

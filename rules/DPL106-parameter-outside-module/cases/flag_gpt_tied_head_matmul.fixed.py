# Mirrors a minimal GPT (nanoGPT/minGPT style) whose language-model head is tied to the token
# embedding by a matrix product with the embedding table: `logits = x @ self.tok_emb.weight.t()`.
# Opacus computes the embedding's per-sample gradient in the hooks of `self.tok_emb(idx)` only, so
# the head's part of it is missing. Measured on opacus 1.4.1, 1.5.4 and 1.6.0: no error; the tok_emb per-sample
# gradient is off by up to 48 (the catalogue's runtime check).
import torch
import torch.nn as nn


class Block(nn.Module):
    def __init__(self, d_model):
        super().__init__()
        self.ln = nn.LayerNorm(d_model)
        self.mlp = nn.Sequential(nn.Linear(d_model, 4 * d_model), nn.GELU(), nn.Linear(4 * d_model, d_model))

    def forward(self, x):
        return x + self.mlp(self.ln(x))


class TinyGPT(nn.Module):
    def __init__(self, vocab_size=17, block_size=8, d_model=16, n_layer=2):
        super().__init__()
        self.tok_emb = nn.Embedding(vocab_size, d_model)
        self.tok_emb_head = torch.nn.Linear(self.tok_emb.embedding_dim, self.tok_emb.num_embeddings, bias=False)
        self.tok_emb_head.weight = self.tok_emb.weight
        self.pos_emb = nn.Embedding(block_size, d_model)
        self.blocks = nn.Sequential(*[Block(d_model) for _ in range(n_layer)])
        self.ln_f = nn.LayerNorm(d_model)

    def forward(self, idx):
        b, t = idx.shape
        pos = torch.arange(t, device=idx.device).expand(b, -1)
        x = self.tok_emb(idx) + self.pos_emb(pos)
        x = self.ln_f(self.blocks(x))
        logits = self.tok_emb_head(x)  # expect: DPL106
        return logits[:, -1]


CASE = {
    "model": "TinyGPT",
    "inputs": ["long[B, 8] < 17"],
    "runtime": "silent",
}

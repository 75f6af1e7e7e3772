# Mirrors a transformer project whose attention class comes from a name registry
# (encoder/factory.py: ATTENTION[cfg["attention"]], "opacus" in config.py) and is handed to every
# block: DPMultiheadAttention(batch_first=True), fed [batch, tokens, dim]. train.py still calls
# make_private(..., batch_first=False), copied from a sequence-first example, so Opacus takes
# dimension 1 (the token position) as the batch for every layer, and computing the classifier's
# per-sample gradients fails in einsum. Fix: drop `batch_first=False` from make_private.
import torch.nn as nn


class EncoderBlock(nn.Module):
    def __init__(self, dim, heads, attn_cls=nn.MultiheadAttention, dropout=0.0):
        super().__init__()
        self.attn = attn_cls(dim, heads, dropout=dropout, batch_first=True)  # expect: DPL002
        self.norm1 = nn.LayerNorm(dim)
        self.ff = nn.Sequential(nn.Linear(dim, 2 * dim), nn.GELU(), nn.Linear(2 * dim, dim))
        self.norm2 = nn.LayerNorm(dim)

    def forward(self, x):
        a, _ = self.attn(x, x, x)
        x = self.norm1(x + a)
        return self.norm2(x + self.ff(x))


class TokenEncoder(nn.Module):
    def __init__(self, vocab=50, dim=16, heads=1, depth=2, num_classes=4, attn_cls=nn.MultiheadAttention):
        super().__init__()
        self.embed = nn.Embedding(vocab, dim)
        self.blocks = nn.ModuleList([EncoderBlock(dim, heads, attn_cls=attn_cls) for _ in range(depth)])
        self.head = nn.Linear(dim, num_classes)

    def forward(self, tokens):
        x = self.embed(tokens)
        for block in self.blocks:
            x = block(x)
        return self.head(x.mean(dim=1))


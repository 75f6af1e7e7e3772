# Mirrors a transformer text-classification project whose attention class is picked by name:
# encoder/factory.py maps names to classes (ATTENTION = {"torch": nn.MultiheadAttention, "opacus":
# DPMultiheadAttention}) and build_encoder(cfg) passes ATTENTION[cfg["attention"]] as `attn_cls`
# into TokenEncoder, which hands it to every EncoderBlock of an nn.ModuleList. config.py says
# "torch", so the blocks hold nn.MultiheadAttention, which make_private refuses ("We do not support
# nn.MultiheadAttention"). Fix: "opacus" in config.py (DPMultiheadAttention), or
# ModuleValidator.fix(model) before make_private.
import torch.nn as nn


class EncoderBlock(nn.Module):
    def __init__(self, dim, heads, attn_cls=nn.MultiheadAttention, dropout=0.0):
        super().__init__()
        self.attn = attn_cls(dim, heads, dropout=dropout, batch_first=True)  # expect: DPL103
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


# Twin of flag_attention_registry_factory_project: config.py names "opacus", so build_encoder passes
# ATTENTION["opacus"] (DPMultiheadAttention, one head, batch-first like the engine) to every block:
# Opacus computes exact per-sample gradients. Following the registry by the wrong key would report
# a layer the model does not hold.
import torch.nn as nn


class EncoderBlock(nn.Module):
    def __init__(self, dim, heads, attn_cls=nn.MultiheadAttention, dropout=0.0):
        super().__init__()
        self.attn = attn_cls(dim, heads, dropout=dropout, batch_first=True)
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


# Mirrors a small text Transformer built from torch's nn.TransformerEncoderLayer (batch-first).
# The layer holds an nn.MultiheadAttention (`self_attn`), which ModuleValidator refuses:
# make_private raises UnsupportedModuleError. Fix: run ModuleValidator.fix(model) before
# make_private (it swaps the attention inside for DPMultiheadAttention), or write the block with
# opacus.layers.DPMultiheadAttention.
import torch.nn as nn


class TextTransformer(nn.Module):
    def __init__(self, vocab_size=50, dim=16, num_classes=3):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, dim)
        self.encoder = nn.TransformerEncoderLayer(  # expect: DPL103
            d_model=dim, nhead=2, dim_feedforward=32, dropout=0.0, batch_first=True
        )
        self.head = nn.Linear(dim, num_classes)

    def forward(self, tokens):
        return self.head(self.encoder(self.embed(tokens)).mean(dim=1))


CASE = {
    "model": "TextTransformer",
    "inputs": ["long[B, 8] < 50"],
    "runtime": "crash",
    "error": "UnsupportedModuleError",
}

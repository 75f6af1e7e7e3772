# Mirrors a sequence-first decoder step in the torchtext-era layout ([tokens, batch, dim]): the
# decoder's cross-attention is torch's nn.MultiheadAttention, trained with
# make_private(batch_first=False). The layouts agree, but nn.MultiheadAttention itself is refused
# by ModuleValidator: make_private raises UnsupportedModuleError. Fix:
# opacus.layers.DPMultiheadAttention(dim, heads) (same arguments, same sequence-first layout).
import torch
import torch.nn as nn
from opacus import PrivacyEngine
from opacus.layers import DPMultiheadAttention


class CrossAttentionDecoder(nn.Module):
    def __init__(self, vocab_size=40, dim=16, heads=2):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, dim)
        self.cross = DPMultiheadAttention(dim, heads)  # expect: DPL103
        self.out = nn.Linear(dim, vocab_size)

    def forward(self, targets, memory):  # [T, B], [S, B, dim]
        h = self.embed(targets)
        return self.out(h + self.cross(h, memory, memory, need_weights=False)[0])


def train(loader):
    model = CrossAttentionDecoder()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    return PrivacyEngine().make_private(
        module=model,
        optimizer=optimizer,
        data_loader=loader,
        noise_multiplier=1.0,
        max_grad_norm=1.0,
        batch_first=False,
    )


CASE = {
    "model": "CrossAttentionDecoder",
    "inputs": ["long[6, B] < 40", "float[9, B, 16]"],
    "batch_first": False,
    "runtime": "crash",
    "error": "We do not support nn.MultiheadAttention",
}

# Mirrors the workaround for the batch-first multi-head bug: four heads in the sequence-first
# layout (DPMultiheadAttention's default batch_first=False) with [tokens, batch, dim] inputs, and
# make_private told `batch_first=False`. That code path moves the heads back correctly: the
# output matches nn.MultiheadAttention and per-sample gradients are exact. (The head runs on the
# whole [tokens, batch, dim] sequence: with batch_first=False every hooked layer must see the
# batch at dimension 1.)
import torch
import torch.nn as nn
from opacus import PrivacyEngine
from opacus.layers import DPMultiheadAttention


class TokenTagger(nn.Module):
    def __init__(self, vocab_size=50, dim=16, heads=4, num_tags=5):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, dim)
        self.attn = DPMultiheadAttention(dim, heads)
        self.tags = nn.Linear(dim, num_tags)

    def forward(self, tokens):  # [T, B]
        h = self.embed(tokens)
        return self.tags(h + self.attn(h, h, h)[0])


def train(loader, epochs=1):
    model = TokenTagger()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    model, optimizer, loader = PrivacyEngine().make_private(
        module=model,
        optimizer=optimizer,
        data_loader=loader,
        noise_multiplier=1.1,
        max_grad_norm=1.0,
        batch_first=False,
    )
    for _ in range(epochs):
        for tokens, tags in loader:
            optimizer.zero_grad()
            logits = model(tokens)
            torch.nn.functional.cross_entropy(logits.flatten(0, 1), tags.flatten()).backward()
            optimizer.step()
    return model


CASE = {
    "model": "TokenTagger",
    "inputs": ["long[7, B] < 50"],
    "batch_first": False,
    "runtime": "ok",
}

# Mirrors the Opacus recipe for torch's nn.TransformerEncoderLayer: `ModuleValidator.fix(model)`
# before make_private replaces the layer's nn.MultiheadAttention with a DPMultiheadAttention
# (same arguments, weights loaded), so the wrapped model is accepted and its per-sample gradients
# are exact. One head: fix() keeps batch_first=True, and with several heads the resulting
# DPMultiheadAttention would compute a wrong output on opacus <= 1.6.0 (see DPL004).
# `build_model` is what actually gets trained, so it is what the runtime check builds.
import torch
import torch.nn as nn
from opacus import PrivacyEngine
from opacus.validators import ModuleValidator


class TextTransformer(nn.Module):
    def __init__(self, vocab_size=50, dim=16, num_classes=3):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, dim)
        self.encoder = nn.TransformerEncoderLayer(dim, 1, 32, dropout=0.0, batch_first=True)
        self.head = nn.Linear(dim, num_classes)

    def forward(self, tokens):
        return self.head(self.encoder(self.embed(tokens)).mean(dim=1))


def build_model():
    return ModuleValidator.fix(TextTransformer())


def train(loader, epochs=1):
    model = build_model()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05)
    model, optimizer, loader = PrivacyEngine().make_private(
        module=model,
        optimizer=optimizer,
        data_loader=loader,
        noise_multiplier=1.0,
        max_grad_norm=1.0,
    )
    return model, optimizer, loader


CASE = {
    "model": "build_model",
    "inputs": ["long[B, 8] < 50"],
    "runtime": "ok",
    "opacus": ">=1.5.3",  # before 1.5.3 ModuleValidator.fix fails on torch >= 2.6 (UnpicklingError)
}

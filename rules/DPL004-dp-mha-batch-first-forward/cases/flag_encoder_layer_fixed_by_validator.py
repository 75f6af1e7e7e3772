# Mirrors the Opacus recipe applied to a small text transformer: the encoder layer is torch's
# nn.TransformerEncoderLayer(nhead=4, batch_first=True), and the training script runs
# ModuleValidator.fix(model) before make_private. The fix replaces the layer's nn.MultiheadAttention
# with a 4-head DPMultiheadAttention(batch_first=True) (opacus/validators/multihead_attention.py
# copies num_heads and batch_first), and with several heads and batch_first=True opacus <= 1.6.0
# computes a different attention output (heads are not moved back before the output projection).
# Training runs; the model is silently not the one written. Fix: nhead=1, or a sequence-first layer
# and engine.
import torch
import torch.nn as nn
from opacus import PrivacyEngine
from opacus.validators import ModuleValidator


class TinyTransformer(nn.Module):
    def __init__(self, vocab_size=50, dim=16, classes=4):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, dim)
        self.encoder = nn.TransformerEncoderLayer(dim, nhead=4, dim_feedforward=32, dropout=0.0, batch_first=True)  # expect: DPL004
        self.head = nn.Linear(dim, classes)

    def forward(self, tokens):
        return self.head(self.encoder(self.embed(tokens)).mean(dim=1))


def build_model():
    return ModuleValidator.fix(TinyTransformer())


def train(loader):
    model = build_model()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    return PrivacyEngine().make_private(
        module=model, optimizer=optimizer, data_loader=loader, noise_multiplier=1.0, max_grad_norm=1.0,
    )


CASE = {
    "model": "build_model",
    "inputs": ["long[B, 7] < 50"],
    "runtime": "silent",
    "opacus": ">=1.5.3",  # before 1.5.3 ModuleValidator.fix fails on torch >= 2.6 (UnpicklingError)
}

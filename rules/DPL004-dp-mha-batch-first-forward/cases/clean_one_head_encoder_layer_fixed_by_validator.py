# Twin of flag_encoder_layer_fixed_by_validator: the same recipe with nhead=1. ModuleValidator.fix
# turns the layer's attention into a one-head DPMultiheadAttention(batch_first=True), whose
# batch-first path is right on opacus >= 1.5: the model is the one written, per-sample gradients
# exact.
import torch
import torch.nn as nn
from opacus import PrivacyEngine
from opacus.validators import ModuleValidator


class TinyTransformer(nn.Module):
    def __init__(self, vocab_size=50, dim=16, classes=4):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, dim)
        self.encoder = nn.TransformerEncoderLayer(dim, nhead=1, dim_feedforward=32, dropout=0.0, batch_first=True)
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
    "runtime": "ok",
    "opacus": ">=1.5.3",  # before 1.5.3 ModuleValidator.fix fails on torch >= 2.6 (UnpicklingError)
}

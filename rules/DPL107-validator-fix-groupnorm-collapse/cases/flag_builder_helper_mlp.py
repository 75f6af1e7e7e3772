# BYOL-style predictor built by a helper that appends layers to a list; the model's
# `forward` flattens the encoder output with `x.view(x.size(0), -1)` and normalises it with its
# own BatchNorm1d. ModuleValidator.fix turns both BatchNorm1d(16) and BatchNorm1d(4) into
# GroupNorm(C, C) on [B, C] features: constant outputs.
import torch
import torch.nn as nn
from opacus import PrivacyEngine
from opacus.validators import ModuleValidator


def mlp(in_dim, hidden_dim, out_dim):
    layers = []
    layers.append(nn.Linear(in_dim, hidden_dim))
    layers.append(nn.BatchNorm1d(hidden_dim))  # expect: DPL107
    layers.append(nn.ReLU())
    layers.append(nn.Linear(hidden_dim, out_dim))
    return nn.Sequential(*layers)


class Predictor(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = nn.Conv1d(2, 4, 3, padding=1)
        self.norm = nn.BatchNorm1d(4)
        self.pool = nn.AdaptiveAvgPool1d(1)
        self.predictor = mlp(4, 16, 4)
        self.final = nn.BatchNorm1d(4)  # expect: DPL107

    def forward(self, x):
        h = self.pool(torch.relu(self.norm(self.encoder(x))))  # [B, 4, L]: GroupNorm(4, 4) is fine there
        h = h.view(h.size(0), -1)
        return self.predictor(self.final(h))


def build_model():
    return ModuleValidator.fix(Predictor())


def train(loader):
    model = build_model()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    model, optimizer, loader = PrivacyEngine().make_private(
        module=model, optimizer=optimizer, data_loader=loader, noise_multiplier=1.0, max_grad_norm=1.0,
    )
    return model


CASE = {
    "model": "build_model",
    "inputs": ["float[B, 2, 6]"],
    "runtime": "silent",  # GroupNorm(4, 4) on [B, 4] and GroupNorm(16, 16) on [B, 16]: constant outputs
    "opacus": ">=1.5.3",  # before 1.5.3 ModuleValidator.fix fails on torch >= 2.6 (UnpicklingError)
}

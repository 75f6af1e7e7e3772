# A SimCLR-style model: a small conv encoder and the usual projector MLP
# (Linear -> BatchNorm1d -> ReLU -> Linear). The training script follows the Opacus recipe for
# BatchNorm and builds the model through ModuleValidator.fix, which turns BatchNorm1d(16) into
# GroupNorm(gcd(32, 16), 16) = GroupNorm(16, 16): on the projector's [batch, 16] features every
# group holds one value, so the layer outputs its bias and the encoder gets no gradient.
import torch
import torch.nn as nn
import torch.nn.functional as F
from opacus import PrivacyEngine
from opacus.validators import ModuleValidator


class SimCLR(nn.Module):
    def __init__(self, feature_dim=32, hidden_dim=16, out_dim=8):
        super().__init__()
        self.encoder = nn.Sequential(
            nn.Conv2d(3, feature_dim, 3, padding=1),
            nn.ReLU(),
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
        )
        self.projector = nn.Sequential(
            nn.Linear(feature_dim, hidden_dim),
            nn.BatchNorm1d(hidden_dim),  # expect: DPL107
            nn.ReLU(),
            nn.Linear(hidden_dim, out_dim),
        )

    def forward(self, x):
        return F.normalize(self.projector(self.encoder(x)), dim=1)


def build_model():
    return ModuleValidator.fix(SimCLR())


def train(loader, epochs=1):
    model = build_model()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    model, optimizer, loader = PrivacyEngine().make_private(
        module=model, optimizer=optimizer, data_loader=loader, noise_multiplier=1.0, max_grad_norm=1.0,
    )
    return model, optimizer, loader


CASE = {
    "model": "build_model",
    "inputs": ["float[B, 3, 8, 8]"],
    "runtime": "silent",  # GroupNorm(16, 16) on [B, 16]: constant output, the encoder gets no gradient
    "opacus": ">=1.5.3",  # before 1.5.3 ModuleValidator.fix fails on torch >= 2.6 (UnpicklingError)
}

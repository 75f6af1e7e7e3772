# The SimCLR projector with a 64-wide hidden layer: ModuleValidator.fix turns BatchNorm1d(64)
# into GroupNorm(gcd(32, 64), 64) = GroupNorm(32, 64), groups of two features. Each pair is
# normalised to about -1/+1, which keeps information and gradient (measured on opacus 1.6.0:
# gradient norm of the Linear before it 4.9): not the constant output of GroupNorm(C, C).
import torch
import torch.nn as nn
import torch.nn.functional as F
from opacus import PrivacyEngine
from opacus.validators import ModuleValidator


class SimCLR(nn.Module):
    def __init__(self, feature_dim=16, hidden_dim=64, out_dim=8):
        super().__init__()
        self.encoder = nn.Sequential(
            nn.Conv2d(3, feature_dim, 3, padding=1),
            nn.ReLU(),
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
        )
        self.projector = nn.Sequential(
            nn.Linear(feature_dim, hidden_dim),
            nn.BatchNorm1d(hidden_dim),
            nn.ReLU(),
            nn.Linear(hidden_dim, out_dim),
        )

    def forward(self, x):
        return F.normalize(self.projector(self.encoder(x)), dim=1)


def build_model():
    return ModuleValidator.fix(SimCLR())


def train(loader):
    model = build_model()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    model, optimizer, loader = PrivacyEngine().make_private(
        module=model, optimizer=optimizer, data_loader=loader, noise_multiplier=1.0, max_grad_norm=1.0,
    )
    return model


CASE = {
    "model": "build_model",
    "inputs": ["float[B, 3, 8, 8]"],
    "runtime": "ok",
    "opacus": ">=1.5.3",  # before 1.5.3 ModuleValidator.fix fails on torch >= 2.6 (UnpicklingError)
}

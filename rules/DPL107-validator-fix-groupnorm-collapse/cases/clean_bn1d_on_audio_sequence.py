# A 1-D conv net for audio frames: BatchNorm1d(16) normalises [B, 16, L] sequences. After
# ModuleValidator.fix it is GroupNorm(16, 16), one channel per group over the L time steps
# (InstanceNorm-like): each group holds L values, so it normalises and trains (measured on
# opacus 1.6.0: output std 1.0, gradient of the conv before it 0.95).
import torch
import torch.nn as nn
from opacus import PrivacyEngine
from opacus.validators import ModuleValidator


class AudioNet(nn.Module):
    def __init__(self, in_channels=4, channels=16, num_classes=5):
        super().__init__()
        self.conv = nn.Conv1d(in_channels, channels, kernel_size=3, padding=1)
        self.bn = nn.BatchNorm1d(channels)
        self.pool = nn.AdaptiveAvgPool1d(1)
        self.fc = nn.Linear(channels, num_classes)

    def forward(self, x):
        h = self.conv(x)
        h = torch.relu(self.bn(h))
        return self.fc(self.pool(h).flatten(1))


def build_model():
    return ModuleValidator.fix(AudioNet())


def train(loader):
    model = build_model()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    model, optimizer, loader = PrivacyEngine().make_private(
        module=model, optimizer=optimizer, data_loader=loader, noise_multiplier=1.0, max_grad_norm=1.0,
    )
    return model


CASE = {
    "model": "build_model",
    "inputs": ["float[B, 4, 9]"],
    "runtime": "ok",
    "opacus": ">=1.5.3",  # before 1.5.3 ModuleValidator.fix fails on torch >= 2.6 (UnpicklingError)
}

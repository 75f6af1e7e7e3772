# An image classifier whose head normalises the pooled features: AdaptiveAvgPool2d(1) ->
# Flatten -> BatchNorm1d(32) -> Linear. The conv trunk uses BatchNorm2d, so the script runs
# ModuleValidator.fix before make_private: BatchNorm2d(32) becomes GroupNorm(32, 32) on
# [B, 32, H, W] (each group holds H*W values: fine), but the head's BatchNorm1d(32) becomes
# GroupNorm(32, 32) on [B, 32]: one value per group, a constant output, a dead network.
import torch
import torch.nn as nn
from opacus import PrivacyEngine
from opacus.validators import ModuleValidator

WIDTH = 32


class ConvClassifier(nn.Module):
    def __init__(self, num_classes=10):
        super().__init__()
        self.trunk = nn.Sequential(
            nn.Conv2d(3, WIDTH, 3, padding=1, bias=False),  # no bias before a norm (it would get no gradient)
            nn.BatchNorm2d(WIDTH),
            nn.ReLU(),
        )
        self.head = nn.Sequential(
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
            nn.BatchNorm1d(WIDTH),  # expect: DPL107
            nn.Linear(WIDTH, num_classes),
        )

    def forward(self, images):
        return self.head(self.trunk(images))


def make_model():
    model = ConvClassifier()
    model = ModuleValidator.fix(model)
    return model


def main(train_loader):
    model = make_model()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    privacy_engine = PrivacyEngine()
    model, optimizer, train_loader = privacy_engine.make_private(
        module=model, optimizer=optimizer, data_loader=train_loader, noise_multiplier=1.1, max_grad_norm=1.0,
    )
    return model


CASE = {
    "model": "make_model",
    "inputs": ["float[B, 3, 6, 6]"],
    "runtime": "silent",  # the head's GroupNorm(32, 32) on [B, 32] outputs its bias
    "opacus": ">=1.5.3",  # before 1.5.3 ModuleValidator.fix fails on torch >= 2.6 (UnpicklingError)
}

# Mirrors the recommended Opacus recipe for a model with BatchNorm: the training script runs
# `ModuleValidator.fix(model)` before make_private, which replaces every BatchNorm with a
# GroupNorm (fresh affine parameters). The model that make_private wraps holds no BatchNorm, so it
# is accepted and its per-sample gradients are exact. `build_model` is what actually gets
# trained, so it is what the runtime check builds.
import torch
import torch.nn as nn
from opacus import PrivacyEngine
from opacus.validators import ModuleValidator


class SmallConvNet(nn.Module):
    def __init__(self, width=8, num_classes=10):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, width, 3, padding=1),
            nn.BatchNorm2d(width),
            nn.ReLU(),
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
        )
        self.fc = nn.Linear(width, num_classes)

    def forward(self, x):
        return self.fc(self.features(x))


def build_model():
    model = SmallConvNet()
    return ModuleValidator.fix(model)


def train(loader, epochs=1):
    model = build_model()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
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
    "inputs": ["float[B, 3, 8, 8]"],
    "runtime": "ok",
    "opacus": ">=1.5.3",  # before 1.5.3 ModuleValidator.fix fails on torch >= 2.6 (UnpicklingError)
}

# The fix written into the model: the classifier head normalises its pooled [B, 32] features
# with GroupNorm(1, 32) (all features of a sample in one group, like LayerNorm(32)), and the
# MLP uses LayerNorm. ModuleValidator.fix leaves both alone; only the trunk's BatchNorm2d is
# replaced (GroupNorm(32, 32) on [B, 32, H, W]: H*W values per group, fine).
import torch
import torch.nn as nn
from opacus import PrivacyEngine
from opacus.validators import ModuleValidator


class ConvClassifier(nn.Module):
    def __init__(self, width=32, num_classes=10):
        super().__init__()
        self.trunk = nn.Sequential(nn.Conv2d(3, width, 3, padding=1), nn.BatchNorm2d(width), nn.ReLU())
        self.head = nn.Sequential(
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
            nn.GroupNorm(1, width),
            nn.Linear(width, 16),
            nn.LayerNorm(16),
            nn.ReLU(),
            nn.Linear(16, num_classes),
        )

    def forward(self, images):
        return self.head(self.trunk(images))


def make_model():
    return ModuleValidator.fix(ConvClassifier())


def main(train_loader):
    model = make_model()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    model, optimizer, train_loader = PrivacyEngine().make_private(
        module=model, optimizer=optimizer, data_loader=train_loader, noise_multiplier=1.1, max_grad_norm=1.0,
    )
    return model


CASE = {
    "model": "make_model",
    "inputs": ["float[B, 3, 6, 6]"],
    "runtime": "ok",
    "opacus": ">=1.5.3",  # before 1.5.3 ModuleValidator.fix fails on torch >= 2.6 (UnpicklingError)
}

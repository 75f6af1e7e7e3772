# Mirrors a project with a trainer class: `DPTrainer(model).fit(loader)` calls
# `make_private(module=self.model, ...)`, and the script hands it `ConvNet()`, whose BatchNorm2d
# Opacus refuses ("BatchNorm cannot support training with differential privacy"). The clean
# twin hands the trainer GroupNorm's ConvNet variant.
import torch.nn as nn
import math


class ConvNet(nn.Module):
    def __init__(self, channels=8, num_classes=10):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, channels, 3, padding=1),
            nn.GroupNorm(math.gcd(32, channels), channels),  # expect: DPL101
            nn.ReLU(),
            nn.AdaptiveAvgPool2d(1),
        )
        self.fc = nn.Linear(channels, num_classes)

    def forward(self, x):
        return self.fc(self.features(x).flatten(1))


class GroupNormConvNet(nn.Module):
    def __init__(self, channels=8, num_classes=10):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, channels, 3, padding=1), nn.GroupNorm(4, channels), nn.ReLU(), nn.AdaptiveAvgPool2d(1),
        )
        self.fc = nn.Linear(channels, num_classes)

    def forward(self, x):
        return self.fc(self.features(x).flatten(1))


CASE = {
    "model": "ConvNet",
    "inputs": ["float[B, 3, 8, 8]"],
    "runtime": "crash",
    "error": "BatchNorm cannot support training with differential privacy",
}

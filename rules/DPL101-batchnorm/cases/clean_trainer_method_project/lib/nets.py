# Twin of flag_trainer_method_project: the trainer calls `make_private(module=self.model)` and
# the script hands it GroupNormConvNet; ConvNet (with BatchNorm) is only the non-private
# baseline. Without following `self.model` back to the trainer's construction, every model of
# the project would be checked and ConvNet's BatchNorm reported.
import torch.nn as nn


class ConvNet(nn.Module):
    def __init__(self, channels=8, num_classes=10):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, channels, 3, padding=1),
            nn.BatchNorm2d(channels),
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
    "model": "GroupNormConvNet",
    "inputs": ["float[B, 3, 8, 8]"],
    "runtime": "ok",
}

import torch.nn as nn


class ConvNet(nn.Module):
    def __init__(self, in_channels=3, num_classes=10, width=8):
        super().__init__()
        self.backbone = nn.Sequential(
            nn.Conv2d(in_channels, width, 3, padding=1),
            nn.GroupNorm(2, width),
            nn.ReLU(),
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
        )
        self.head = nn.Linear(width, num_classes)

    def forward(self, x):
        return self.head(self.backbone(x))


class MLPNet(nn.Module):
    def __init__(self, in_channels=3, num_classes=10, hidden=32, image_size=8):
        super().__init__()
        self.backbone = nn.Sequential(nn.Flatten(), nn.Linear(in_channels * image_size * image_size, hidden), nn.Tanh())
        self.head = nn.Linear(hidden, num_classes)

    def forward(self, x):
        return self.head(self.backbone(x))

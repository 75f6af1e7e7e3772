import torch.nn as nn


class ResNetTiny(nn.Module):
    """A stand-in for a pretrained backbone with a `fc` head, as torchvision's ResNets have."""

    def __init__(self, num_classes=1000):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(8, num_classes)

    def forward(self, x):
        return self.fc(self.pool(self.conv(x).relu()).flatten(1))


def replace_head(model, num_classes):
    model.fc = nn.Linear(model.fc.in_features, num_classes)

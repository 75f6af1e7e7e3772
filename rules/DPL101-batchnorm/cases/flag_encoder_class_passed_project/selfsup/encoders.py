# Part of the multi-file case (see contrastive.py): the encoder classes a run can choose from.
import torch.nn as nn


class BNEncoder(nn.Module):
    def __init__(self, num_classes=16, width=8):
        super().__init__()
        self.conv = nn.Conv2d(3, width, 3, padding=1)
        self.bn = nn.BatchNorm2d(width)  # expect: DPL101
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(width, num_classes)

    def forward(self, x):
        return self.fc(self.pool(self.bn(self.conv(x)).relu()).flatten(1))


class GNEncoder(nn.Module):
    def __init__(self, num_classes=16, width=8):
        super().__init__()
        self.conv = nn.Conv2d(3, width, 3, padding=1)
        self.gn = nn.GroupNorm(4, width)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(width, num_classes)

    def forward(self, x):
        return self.fc(self.pool(self.gn(self.conv(x)).relu()).flatten(1))

# Mirrors the DP-friendly version of a CIFAR-style ResNet basic block: GroupNorm instead of
# BatchNorm (what ModuleValidator.fix would put there). GroupNorm normalises each sample on its
# own, so make_private accepts it and per-sample gradients are exact.
import torch.nn as nn
import torch.nn.functional as F


class BasicBlock(nn.Module):
    def __init__(self, channels, groups=4):
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.gn1 = nn.GroupNorm(groups, channels)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.gn2 = nn.GroupNorm(groups, channels)

    def forward(self, x):
        out = F.relu(self.gn1(self.conv1(x)))
        return F.relu(x + self.gn2(self.conv2(out)))


class TinyResNet(nn.Module):
    def __init__(self, width=8, num_classes=10):
        super().__init__()
        self.stem = nn.Conv2d(3, width, 3, padding=1)
        self.block = BasicBlock(width)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(width, num_classes)

    def forward(self, x):
        return self.fc(self.pool(self.block(self.stem(x))).flatten(1))


CASE = {
    "model": "TinyResNet",
    "inputs": ["float[B, 3, 8, 8]"],
    "runtime": "ok",
}

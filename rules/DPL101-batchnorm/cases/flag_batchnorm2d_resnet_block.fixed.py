# Mirrors a CIFAR-style ResNet basic block (conv-BN-ReLU twice, identity shortcut), the most
# common model people try to train with Opacus unchanged. BatchNorm normalises each sample with
# statistics of the whole batch, so samples are not independent and per-sample gradients are not
# defined: make_private's ModuleValidator raises UnsupportedModuleError before training starts.
# Fix: nn.GroupNorm(math.gcd(32, C), C), or `model = ModuleValidator.fix(model)` before
# make_private.
import torch.nn as nn
import torch.nn.functional as F
import math


class BasicBlock(nn.Module):
    def __init__(self, channels):
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.bn1 = nn.GroupNorm(math.gcd(32, channels), channels)  # expect: DPL101
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.bn2 = nn.GroupNorm(math.gcd(32, channels), channels)  # expect: DPL101

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        return F.relu(x + self.bn2(self.conv2(out)))


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
    "runtime": "crash",
    "error": "UnsupportedModuleError",
}

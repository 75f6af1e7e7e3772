# A ResNet-style block whose BatchNorm is frozen by `freeze_bn()`, called from __init__. The
# training script runs `ModuleValidator.fix(model)` before make_private, but fix only replaces
# layers the validator reports, and it does not report a frozen BatchNorm: it stays, and mixes
# samples in train mode (measured: fix returns the BatchNorm2d unchanged; per-sample gradients wrong).
import torch.nn as nn


class Block(nn.Module):
    def __init__(self, channels=4):
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, 3, padding=1)
        self.bn = nn.BatchNorm2d(channels)  # expect: DPL101
        for p in self.bn.parameters():
            p.requires_grad = False

    def forward(self, x):
        return (self.bn(self.conv(x)) + x).relu()


class SmallResNet(nn.Module):
    def __init__(self, channels=4, num_classes=3):
        super().__init__()
        self.stem = nn.Conv2d(3, channels, 3, padding=1)
        self.block = Block(channels)
        self.fc = nn.Linear(channels, num_classes)

    def forward(self, x):
        return self.fc(self.block(self.stem(x)).mean(dim=(2, 3)))


CASE = {
    "model": "SmallResNet",
    "inputs": ["float[B, 3, 6, 6]"],
    "runtime": "silent",
}

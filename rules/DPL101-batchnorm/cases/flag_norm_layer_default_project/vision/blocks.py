# Mirrors torchvision's ResNet style: the normalisation layer is a class handed down as a value.
# `norm_layer=None` means `nn.BatchNorm2d` (set in `__init__`), and `ResNetSmall()` is built with the
# defaults by the training script, so every block holds a BatchNorm2d: Opacus refuses it
# ("BatchNorm cannot support training with differential privacy"). The clean twin passes
# `partial(nn.GroupNorm, 4)` instead.
import torch.nn as nn


class BasicBlock(nn.Module):
    def __init__(self, channels, norm_layer=None):
        super().__init__()
        if norm_layer is None:
            norm_layer = nn.BatchNorm2d
        self.conv = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.norm = norm_layer(channels)  # expect: DPL101
        self.act = nn.ReLU()

    def forward(self, x):
        return self.act(x + self.norm(self.conv(x)))


class ResNetSmall(nn.Module):
    def __init__(self, width=8, num_classes=10, norm_layer=None):
        super().__init__()
        self.stem = nn.Conv2d(3, width, 3, padding=1)
        self.blocks = nn.Sequential(BasicBlock(width, norm_layer), BasicBlock(width, norm_layer=norm_layer))
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(width, num_classes)

    def forward(self, x):
        return self.fc(self.pool(self.blocks(self.stem(x))).flatten(1))


CASE = {
    "model": "ResNetSmall",
    "inputs": ["float[B, 3, 8, 8]"],
    "runtime": "crash",
    "error": "BatchNorm cannot support training with differential privacy",
}

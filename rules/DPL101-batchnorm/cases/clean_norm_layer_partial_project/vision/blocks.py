# Twin of flag_norm_layer_default_project: the same torchvision-style blocks (`norm_layer=None`
# means `nn.BatchNorm2d`), but the factory the training script calls passes
# `functools.partial(nn.GroupNorm, 4)`: every block holds GroupNorm(4, C), which Opacus supports.
# Reading only the default would report a BatchNorm that is never built.
from functools import partial

import torch.nn as nn


class BasicBlock(nn.Module):
    def __init__(self, channels, norm_layer=None):
        super().__init__()
        if norm_layer is None:
            norm_layer = nn.BatchNorm2d
        self.conv = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.norm = norm_layer(channels)
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


def build_model(num_classes=10):
    return ResNetSmall(num_classes=num_classes, norm_layer=partial(nn.GroupNorm, 4))


CASE = {
    "model": "build_model",
    "inputs": ["float[B, 3, 8, 8]"],
    "runtime": "ok",
}

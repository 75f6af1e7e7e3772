from dataclasses import dataclass

import torch.nn as nn

from .blocks import SEBlock, conv_bn_relu


@dataclass
class NetConfig:
    in_channels: int = 3
    widths: tuple = (8, 16)
    num_classes: int = 10
    use_se: bool = True


class SmallCNN(nn.Module):
    def __init__(self, cfg: NetConfig):
        super().__init__()
        layers = []
        prev = cfg.in_channels
        for i, w in enumerate(cfg.widths):
            layers.append(conv_bn_relu(prev, w, stride=1 if i == 0 else 2))
            prev = w
        self.features = nn.Sequential(*layers)
        self.se = SEBlock(prev) if cfg.use_se else nn.Identity()
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(prev, cfg.num_classes)

    def forward(self, x):
        x = self.se(self.features(x))
        return self.classifier(self.pool(x).flatten(1))


def build():
    return SmallCNN(NetConfig())


CASE = {
    "model": "build",
    "inputs": ["float[B, 3, 8, 8]"],
    "runtime": "crash",
    "error": "is being modified inplace",
}

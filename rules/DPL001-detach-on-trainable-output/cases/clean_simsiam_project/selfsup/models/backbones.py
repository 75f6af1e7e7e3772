# Part of the multi-file SimSiam case (see simsiam.py): a tiny ResNet-like conv backbone (no BatchNorm).
import torch.nn as nn


class TinyConvNet(nn.Module):
    def __init__(self, in_channels=3, width=8):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, width, kernel_size=3, padding=1)
        self.conv2 = nn.Conv2d(width, width, kernel_size=3, stride=2, padding=1)
        self.act = nn.GELU()
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.out_dim = width

    def forward(self, x):
        x = self.act(self.conv1(x))
        x = self.act(self.conv2(x))
        return self.pool(x).flatten(1)

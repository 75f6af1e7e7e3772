# Mirrors the double-convolution block of many U-Net implementations, written with functional
# activations: `F.relu(self.conv1(x), inplace=True)` and a GAN-style
# `F.leaky_relu(..., 0.2, inplace=True)`. Each modifies a convolution's output in place; under
# Opacus 1.6.0 that output is a view made by the backward hook, and the forward raises
# `RuntimeError: Output 0 of BackwardHookFunction is a view and is being modified inplace`.
# Fix: drop `inplace=True` (same values).
import torch
import torch.nn as nn
import torch.nn.functional as F


class DoubleConv(nn.Module):
    def __init__(self, in_ch, out_ch):
        super().__init__()
        self.conv1 = nn.Conv2d(in_ch, out_ch, 3, padding=1)
        self.conv2 = nn.Conv2d(out_ch, out_ch, 3, padding=1)

    def forward(self, x):
        x = F.relu(self.conv1(x))  # expect: DPL104
        return F.leaky_relu(self.conv2(x), 0.2)  # expect: DPL104


class TinyUNet(nn.Module):
    def __init__(self, channels=3, width=4):
        super().__init__()
        self.down = DoubleConv(channels, width)
        self.pool = nn.MaxPool2d(2)
        self.bottom = nn.Conv2d(width, width, 3, padding=1)
        self.up = nn.Upsample(scale_factor=2)
        self.out = nn.Conv2d(2 * width, 1, 1)

    def forward(self, x):
        skip = self.down(x)
        h = self.up(self.bottom(self.pool(skip)))
        return self.out(torch.cat([h, skip], dim=1)).flatten(1)


CASE = {
    "model": "TinyUNet",
    "inputs": ["float[B, 3, 8, 8]"],
    "runtime": "crash",
    "error": "is a view and is being modified inplace",
}

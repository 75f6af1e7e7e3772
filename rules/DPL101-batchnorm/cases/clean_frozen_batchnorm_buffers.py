# detectron2's FrozenBatchNorm2d: the statistics and affine terms are buffers and the forward uses
# them as constants, in train mode too: no batch statistics, nothing mixed (exact per-sample gradients).
import torch
import torch.nn as nn


class FrozenBatchNorm2d(nn.Module):
    def __init__(self, num_features, eps=1e-5):
        super().__init__()
        self.eps = eps
        self.register_buffer("weight", torch.ones(num_features))
        self.register_buffer("bias", torch.zeros(num_features))
        self.register_buffer("running_mean", torch.zeros(num_features))
        self.register_buffer("running_var", torch.ones(num_features))

    def forward(self, x):
        scale = self.weight * (self.running_var + self.eps).rsqrt()
        shift = self.bias - self.running_mean * scale
        return x * scale.view(1, -1, 1, 1) + shift.view(1, -1, 1, 1)


class Detector(nn.Module):
    def __init__(self, channels=4):
        super().__init__()
        self.conv = nn.Conv2d(3, channels, 3, padding=1)
        self.bn = FrozenBatchNorm2d(channels)
        self.cls = nn.Linear(channels, 2)

    def forward(self, x):
        return self.cls(self.bn(self.conv(x)).relu().mean(dim=(2, 3)))


CASE = {
    "model": "Detector",
    "inputs": ["float[B, 3, 6, 6]"],
    "runtime": "ok",
}

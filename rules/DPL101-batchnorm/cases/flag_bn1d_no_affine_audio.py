# Mirrors a 1-D convolutional audio/sensor classifier that normalises feature maps with
# `nn.BatchNorm1d(C, affine=False, track_running_stats=False)`: no parameters, no running statistics,
# batch statistics in train *and* eval mode. make_private accepts it; samples mix silently.
import torch.nn as nn


class AudioNet(nn.Module):
    def __init__(self, channels=4):
        super().__init__()
        self.conv = nn.Conv1d(2, channels, 5, padding=2)
        self.norm = nn.BatchNorm1d(channels, affine=False, track_running_stats=False)  # expect: DPL101
        self.head = nn.Linear(channels, 2)

    def forward(self, x):
        return self.head(self.norm(self.conv(x)).relu().mean(dim=2))


CASE = {
    "model": "AudioNet",
    "inputs": ["float[B, 2, 16]"],
    "runtime": "silent",
}

# Mirrors torchvision-style `conv_bn_relu` helpers (GroupNorm for DP) whose `inplace` parameter
# defaults to True: every block `SmallCNN` builds with `conv_bn_relu(prev, w, stride=...)` runs an
# in-place ReLU on GroupNorm's hooked output, and the first forward under make_private raises
# "Output 0 of BackwardHookFunction is a view and is being modified inplace" (measured, opacus 1.6.0).
# The setting is read from the helper's default, bound per call (clean twin: the call passes False).
import torch.nn as nn


def conv_bn_relu(in_ch, out_ch, kernel_size=3, stride=1, groups=8, inplace=True):
    """Conv -> GroupNorm -> ReLU, torchvision-style."""
    padding = (kernel_size - 1) // 2
    return nn.Sequential(
        nn.Conv2d(in_ch, out_ch, kernel_size, stride, padding, bias=False),
        nn.GroupNorm(groups, out_ch),
        nn.ReLU(inplace=inplace),  # expect: DPL104
    )


class SEBlock(nn.Module):
    def __init__(self, channels, reduction=4):
        super().__init__()
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc1 = nn.Conv2d(channels, channels // reduction, 1)
        self.fc2 = nn.Conv2d(channels // reduction, channels, 1)

    def forward(self, x):
        s = self.pool(x)
        s = self.fc1(s).relu()
        s = self.fc2(s).sigmoid()
        return x * s

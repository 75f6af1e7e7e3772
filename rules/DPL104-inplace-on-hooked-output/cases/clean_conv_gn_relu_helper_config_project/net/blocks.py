import torch.nn as nn


def conv_bn_relu(in_ch, out_ch, kernel_size=3, stride=1, groups=8, inplace=True):
    """Conv -> GroupNorm -> ReLU, torchvision-style."""
    padding = (kernel_size - 1) // 2
    return nn.Sequential(
        nn.Conv2d(in_ch, out_ch, kernel_size, stride, padding, bias=False),
        nn.GroupNorm(groups, out_ch),
        nn.ReLU(inplace=inplace),
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

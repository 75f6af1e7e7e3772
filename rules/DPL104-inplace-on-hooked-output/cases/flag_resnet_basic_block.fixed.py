# Mirrors torchvision's BasicBlock (He et al., 2016) with GroupNorm instead of BatchNorm (as Opacus
# requires): one `self.relu = nn.ReLU(inplace=True)` shared by both activations, and the residual
# added in place (`out += identity`). Under Opacus 1.6.0 the GroupNorm's output is a view made by
# its backward hook; the in-place ReLU on it raises at the first forward:
# `RuntimeError: Output 0 of BackwardHookFunction is a view and is being modified inplace`.
# Fix: `nn.ReLU(inplace=False)` and `out = out + identity` (same values).
import torch.nn as nn


def conv3x3(in_planes, out_planes, stride=1):
    return nn.Conv2d(in_planes, out_planes, kernel_size=3, stride=stride, padding=1, bias=False)


class BasicBlock(nn.Module):
    expansion = 1

    def __init__(self, inplanes, planes, stride=1, downsample=None):
        super().__init__()
        self.conv1 = conv3x3(inplanes, planes, stride)
        self.gn1 = nn.GroupNorm(2, planes)
        self.relu = nn.ReLU(inplace=False)
        self.conv2 = conv3x3(planes, planes)
        self.gn2 = nn.GroupNorm(2, planes)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x):
        identity = x

        out = self.conv1(x)
        out = self.gn1(out)
        out = self.relu(out)  # expect: DPL104

        out = self.conv2(out)
        out = self.gn2(out)

        if self.downsample is not None:
            identity = self.downsample(x)

        out = out + identity  # expect: DPL104
        out = self.relu(out)
        return out


class TinyResNet(nn.Module):
    def __init__(self, num_classes=3):
        super().__init__()
        self.stem = nn.Conv2d(3, 4, 3, padding=1)
        self.pool = nn.MaxPool2d(2)
        self.layer1 = BasicBlock(4, 4)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(4, num_classes)

    def forward(self, x):
        x = self.pool(self.stem(x))
        x = self.layer1(x)
        return self.fc(self.avgpool(x).flatten(1))


CASE = {
    "model": "TinyResNet",
    "inputs": ["float[B, 3, 8, 8]"],
    "runtime": "crash",
    "error": "is a view and is being modified inplace",
}

import torch
import torch.nn as nn


class BasicBlock(nn.Module):
    """torchvision's BasicBlock, with GroupNorm (Opacus refuses BatchNorm)."""

    def __init__(self, planes: int):
        super().__init__()
        self.conv1 = nn.Conv2d(planes, planes, 3, padding=1, bias=False)
        self.gn1 = nn.GroupNorm(4, planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(planes, planes, 3, padding=1, bias=False)
        self.gn2 = nn.GroupNorm(4, planes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x
        out = self.relu(self.gn1(self.conv1(x)))
        out = self.gn2(self.conv2(out))
        out += identity
        return self.relu(out)


class ResNet(nn.Module):
    """A CIFAR-style ResNet: conv stem, max pooling, two residual blocks, linear head."""

    def __init__(self, num_classes: int = 10, width: int = 16):
        super().__init__()
        self.stem = nn.Conv2d(3, width, 3, padding=1, bias=False)
        self.pool = nn.MaxPool2d(2)
        self.layer1 = nn.Sequential(BasicBlock(width), BasicBlock(width))
        self.head = nn.Linear(width, num_classes)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        h = self.layer1(self.pool(self.stem(images)))
        return self.head(h.mean(dim=(2, 3)))

"""A small ResNet for 32x32 inputs, written the torchvision way (norm_layer/act_layer hooks).

Mirrors torchvision-style ResNets: `resnet_tiny()` builds `ResNet(BasicBlock, [1, 1], ...)` and the
blocks are made by `self._make_layer(block, ...)` from the class handed in. Each BasicBlock keeps a
squeeze-excitation layer its forward no longer calls: its parameters get no per-sample gradient and
optimizer.step() raises "Per sample gradient is not initialized" (measured, opacus 1.6.0). The block
class is part of the private model because it is handed to the private ResNet's constructor.
"""
from functools import partial
from typing import Callable, List, Optional, Type

import torch
import torch.nn as nn


def group_norm(num_channels: int, groups: int = 4) -> nn.GroupNorm:
    return nn.GroupNorm(min(groups, num_channels), num_channels)


def conv3x3(in_planes: int, out_planes: int, stride: int = 1) -> nn.Conv2d:
    return nn.Conv2d(in_planes, out_planes, kernel_size=3, stride=stride, padding=1, bias=False)


def conv1x1(in_planes: int, out_planes: int, stride: int = 1) -> nn.Conv2d:
    return nn.Conv2d(in_planes, out_planes, kernel_size=1, stride=stride, bias=False)


class BasicBlock(nn.Module):
    expansion = 1

    def __init__(
        self,
        inplanes: int,
        planes: int,
        stride: int = 1,
        downsample: Optional[nn.Module] = None,
        norm_layer: Optional[Callable[..., nn.Module]] = None,
        act_layer: Callable[..., nn.Module] = nn.ReLU,
    ) -> None:
        super().__init__()
        if norm_layer is None:
            norm_layer = group_norm
        self.conv1 = conv3x3(inplanes, planes, stride)
        self.bn1 = norm_layer(planes)
        self.act = act_layer()
        self.conv2 = conv3x3(planes, planes)
        self.bn2 = norm_layer(planes)
        self.downsample = downsample
        # squeeze-excitation gate, kept from an experiment (forward no longer uses it)
        self.se_fc = nn.Linear(planes, planes)  # expect: DPL003
        self.se_fc.requires_grad_(False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x
        out = self.conv1(x)
        out = self.bn1(out)
        out = self.act(out)
        out = self.conv2(out)
        out = self.bn2(out)
        if self.downsample is not None:
            identity = self.downsample(x)
        out = out + identity
        out = self.act(out)
        return out


class ResNet(nn.Module):
    def __init__(
        self,
        block: Type[BasicBlock],
        layers: List[int],
        num_classes: int = 10,
        width: int = 8,
        norm_layer: Optional[Callable[..., nn.Module]] = None,
        act_layer: Callable[..., nn.Module] = nn.ReLU,
    ) -> None:
        super().__init__()
        if norm_layer is None:
            norm_layer = group_norm
        self._norm_layer = norm_layer
        self._act_layer = act_layer
        self.inplanes = width
        self.conv1 = nn.Conv2d(3, width, kernel_size=3, stride=1, padding=1, bias=False)
        self.bn1 = norm_layer(width)
        self.act = act_layer()
        self.layer1 = self._make_layer(block, width, layers[0])
        self.layer2 = self._make_layer(block, width * 2, layers[1], stride=2)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(width * 2 * block.expansion, num_classes)

    def _make_layer(self, block: Type[BasicBlock], planes: int, blocks: int, stride: int = 1) -> nn.Sequential:
        norm_layer = self._norm_layer
        downsample = None
        if stride != 1 or self.inplanes != planes * block.expansion:
            downsample = nn.Sequential(
                conv1x1(self.inplanes, planes * block.expansion, stride),
                norm_layer(planes * block.expansion),
            )
        layers = [block(self.inplanes, planes, stride, downsample, norm_layer, self._act_layer)]
        self.inplanes = planes * block.expansion
        for _ in range(1, blocks):
            layers.append(block(self.inplanes, planes, norm_layer=norm_layer, act_layer=self._act_layer))
        return nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.act(self.bn1(self.conv1(x)))
        x = self.layer1(x)
        x = self.layer2(x)
        x = self.avgpool(x)
        x = torch.flatten(x, 1)
        return self.fc(x)


def resnet_tiny(num_classes: int = 10, **kwargs) -> ResNet:
    return ResNet(BasicBlock, [1, 1], num_classes=num_classes, **kwargs)


CASE = {
    "model": "resnet_tiny",
    "inputs": ["float[B, 3, 8, 8]"],
    "runtime": "crash",
    "error": "Per sample gradient is not initialized",
}

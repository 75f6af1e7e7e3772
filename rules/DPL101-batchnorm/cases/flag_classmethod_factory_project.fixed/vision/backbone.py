# Mirrors a backbone with classmethod constructors: `Backbone.with_batchnorm()` returns
# `cls(width=8, use_bn=True)`, and the classifier the script makes private holds
# `Backbone.with_batchnorm()`: its BatchNorm2d is refused by Opacus ("BatchNorm cannot support
# training with differential privacy"). The clean twin's classifier uses
# `Backbone.for_privacy()` (`use_bn=False`, GroupNorm), while the default stays use_bn=True.
import torch.nn as nn
import math


class Backbone(nn.Module):
    def __init__(self, width=8, use_bn=True):
        super().__init__()
        self.conv = nn.Conv2d(3, width, 3, padding=1)
        if use_bn:
            self.norm = nn.GroupNorm(math.gcd(32, width), width)  # expect: DPL101
        else:
            self.norm = nn.GroupNorm(4, width)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.out_dim = width

    def forward(self, x):
        return self.pool(self.norm(self.conv(x)).relu()).flatten(1)

    @classmethod
    def with_batchnorm(cls, width=8):
        return cls(width=width, use_bn=True)

    @classmethod
    def for_privacy(cls, width=8):
        return cls(width=width, use_bn=False)

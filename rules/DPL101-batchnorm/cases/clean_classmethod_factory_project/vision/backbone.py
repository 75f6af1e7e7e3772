# Twin of flag_classmethod_factory_project: the classifier holds `Backbone.for_privacy()`, which
# returns `cls(width=width, use_bn=False)`: GroupNorm. Reading the constructor's default
# (use_bn=True) instead of what the classmethod passes would report a BatchNorm never built.
import torch.nn as nn


class Backbone(nn.Module):
    def __init__(self, width=8, use_bn=True):
        super().__init__()
        self.conv = nn.Conv2d(3, width, 3, padding=1)
        if use_bn:
            self.norm = nn.BatchNorm2d(width)
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

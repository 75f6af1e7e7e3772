# Part of the multi-file case (see vision/net.py): a conv-norm-activation block, torchvision style.
import torch.nn as nn


class ConvNormAct(nn.Module):
    def __init__(self, cin, cout, stride=1, norm_layer=None):
        super().__init__()
        if norm_layer is None:
            norm_layer = nn.BatchNorm2d
        self.conv = nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False)
        self.norm = norm_layer(cout)  # expect: DPL101
        self.act = nn.ReLU()

    def forward(self, x):
        return self.act(self.norm(self.conv(x)))

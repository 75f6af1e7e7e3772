# Mirrors a vision project whose script picks the architecture from a command-line name:
# `if args.arch == "convnet": model = ConvNet() elif args.arch == "wide": model = WideConvNet()`,
# then make_private(module=model). Either may be the private model. WideConvNet normalises with
# BatchNorm2d, which Opacus refuses ("BatchNorm cannot support training with differential
# privacy"): reported at medium confidence, naming the alternative it holds on. ConvNet uses
# GroupNorm and the supervised teacher (never made private) keeps its BatchNorm: neither is
# reported. Fix: `ModuleValidator.fix(model)` before make_private, or GroupNorm in WideConvNet.
import torch.nn as nn


class ConvNet(nn.Module):
    def __init__(self, num_classes=10):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.GroupNorm(4, 8), nn.ReLU(),
                                      nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.head = nn.Linear(8, num_classes)

    def forward(self, x):
        return self.head(self.features(x))


class WideConvNet(nn.Module):
    def __init__(self, num_classes=10):
        super().__init__()
        self.conv = nn.Conv2d(3, 16, 3, padding=1)
        self.norm = nn.GroupNorm(16, 16)  # expect: DPL101
        self.pool = nn.Sequential(nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.head = nn.Linear(16, num_classes)

    def forward(self, x):
        return self.head(self.pool(self.norm(self.conv(x))))


class Teacher(nn.Module):
    def __init__(self, num_classes=10):
        super().__init__()
        self.net = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(),
                                 nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, num_classes))

    def forward(self, x):
        return self.net(x)


CASE = {
    "model": "WideConvNet",
    "inputs": ["float[B, 3, 8, 8]"],
    "runtime": "crash",
    "error": "BatchNorm cannot support training with differential privacy",
}

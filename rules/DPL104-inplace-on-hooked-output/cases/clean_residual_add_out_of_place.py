# Mirrors a residual block written out of place: `out = self.gn2(self.conv2(out)) + identity`,
# then the shared in-place ReLU. The in-place ReLU now modifies the sum, an ordinary tensor, not
# a hooked layer's output; the first activation is out of place (`F.relu`).
# Measured on Opacus 1.6.0: trains, per-sample gradients exact. Not a DPL104 finding.
import torch.nn as nn
import torch.nn.functional as F


class ResidualBlock(nn.Module):
    def __init__(self, planes=4):
        super().__init__()
        self.conv1 = nn.Conv2d(planes, planes, 3, padding=1)
        self.gn1 = nn.GroupNorm(2, planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, padding=1)
        self.gn2 = nn.GroupNorm(2, planes)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x):
        identity = x
        out = F.relu(self.gn1(self.conv1(x)))
        out = self.gn2(self.conv2(out)) + identity
        out = self.relu(out)
        out = out * 0.5
        out.relu_()
        return out


class Net(nn.Module):
    def __init__(self, num_classes=3):
        super().__init__()
        self.stem = nn.Conv2d(3, 4, 3, padding=1)
        self.block = ResidualBlock(4)
        self.fc = nn.Linear(4, num_classes)

    def forward(self, x):
        h = self.stem(x) * 1.0
        return self.fc(self.block(h).mean(dim=(2, 3)))


CASE = {
    "model": "Net",
    "inputs": ["float[B, 3, 8, 8]"],
    "runtime": "ok",
}

# Mirrors fine-tuning with the BatchNorm layers frozen (a common recipe: "freeze BN, train the
# convolutions"). Frozen, the BatchNorm has no trainable parameter, so make_private's validator
# does not look at it and accepts the model; in train mode it still normalises with the batch's
# statistics, and the per-sample gradients of the convolutions mix samples. No error.
import torch.nn as nn


class ConvNet(nn.Module):
    def __init__(self, channels=4, num_classes=3):
        super().__init__()
        self.conv1 = nn.Conv2d(3, channels, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(channels)  # expect: DPL101
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1)
        self.fc = nn.Linear(channels, num_classes)
        self.bn1.requires_grad_(False)

    def forward(self, x):
        h = self.bn1(self.conv1(x)).relu()
        return self.fc(self.conv2(h).relu().mean(dim=(2, 3)))


CASE = {
    "model": "ConvNet",
    "inputs": ["float[B, 3, 6, 6]"],
    "runtime": "silent",
}

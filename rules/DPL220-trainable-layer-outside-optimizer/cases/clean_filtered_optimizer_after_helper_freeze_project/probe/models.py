# Part of the multi-file case (see train.py): a linear probe on a small backbone.
import torch
import torch.nn as nn


class Backbone(nn.Module):
    def __init__(self, in_features=12, width=16):
        super().__init__()
        self.fc1 = nn.Linear(in_features, width)
        self.norm = nn.LayerNorm(width)
        self.fc2 = nn.Linear(width, width)

    def forward(self, x):
        return self.fc2(torch.relu(self.norm(self.fc1(x))))


class LinearProbe(nn.Module):
    def __init__(self, num_classes=4):
        super().__init__()
        self.backbone = Backbone()
        self.head = nn.Linear(16, num_classes)

    def forward(self, x):
        return self.head(self.backbone(x))

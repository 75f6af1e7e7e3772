# The private model only sees pooled features: no embedding of its own.
import torch.nn as nn


class Head(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(16, 16), nn.ReLU(), nn.Linear(16, 2))

    def forward(self, features):
        return self.net(features)


CASE = {
    "model": "Head",
    "inputs": ["float[B, 16]"],
    "runtime": "ok",
}

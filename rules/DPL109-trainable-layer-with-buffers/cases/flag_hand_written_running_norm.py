"""A hand-written normalisation layer with a learnable scale and shift and running statistics
kept as buffers (ModuleValidator does not know it, so it is not replaced)."""

import torch
import torch.nn as nn


class RunningNorm(nn.Module):
    def __init__(self, channels, momentum=0.1, eps=1e-5):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(channels))  # expect: DPL109
        self.bias = nn.Parameter(torch.zeros(channels))
        self.register_buffer("running_mean", torch.zeros(channels))
        self.register_buffer("running_var", torch.ones(channels))
        self.momentum, self.eps = momentum, eps

    def forward(self, x):
        if self.training:
            with torch.no_grad():
                self.running_mean.lerp_(x.mean(0), self.momentum)
                self.running_var.lerp_(x.var(0), self.momentum)
        x = (x - self.running_mean) / (self.running_var + self.eps).sqrt()
        return x * self.weight + self.bias


def mlp(in_dim, hidden, out_dim):
    return nn.Sequential(nn.Linear(in_dim, hidden), RunningNorm(hidden), nn.ReLU(), nn.Linear(hidden, out_dim))


class Classifier(nn.Module):
    def __init__(self, in_dim=20, hidden=16, classes=3):
        super().__init__()
        self.body = mlp(in_dim, hidden, classes)

    def forward(self, x):
        return self.body(x)


CASE = {
    "model": "Classifier",
    "inputs": ["float[B, 20]"],
    "runtime": "crash",
    "error": "Model contains a trainable layer",
}

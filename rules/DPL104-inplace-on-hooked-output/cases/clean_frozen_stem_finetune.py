# Mirrors fine-tuning with a frozen pretrained stem (a common DP recipe: train only the head).
# The stem's `Conv2d -> ReLU(inplace=True)` stays in place, but its parameters are frozen, so
# Opacus puts no hook on the Conv2d and its output is an ordinary tensor.
# Measured on Opacus 1.6.0: trains, per-sample gradients exact. Not a DPL104 finding.
import torch.nn as nn


class FrozenStemClassifier(nn.Module):
    def __init__(self, num_classes=3):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(inplace=True), nn.AdaptiveAvgPool2d(2))
        self.stem.requires_grad_(False)
        self.head = nn.Sequential(nn.Flatten(), nn.Linear(16, 8), nn.GELU(), nn.Linear(8, num_classes))

    def forward(self, x):
        return self.head(self.stem(x))


CASE = {
    "model": "FrozenStemClassifier",
    "inputs": ["float[B, 3, 8, 8]"],
    "runtime": "ok",
}

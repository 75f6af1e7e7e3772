# A frozen InstanceNorm2d(affine=True, track_running_stats=True): refused while trainable, but frozen
# it passes make_private (measured) and normalises each sample on its own: exact per-sample gradients.
import torch.nn as nn


class Frozen(nn.Module):
    def __init__(self, channels=4):
        super().__init__()
        self.conv = nn.Conv2d(3, channels, 3, padding=1)
        self.norm = nn.InstanceNorm2d(channels, affine=True, track_running_stats=True)
        self.norm.requires_grad_(False)
        self.fc = nn.Linear(channels, 2)

    def forward(self, x):
        return self.fc(self.norm(self.conv(x)).relu().mean(dim=(2, 3)))


CASE = {
    "model": "Frozen",
    "inputs": ["float[B, 3, 6, 6]"],
    "runtime": "ok",
}

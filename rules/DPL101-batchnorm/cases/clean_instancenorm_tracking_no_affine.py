# InstanceNorm2d tracking running statistics but without parameters (affine=False, the default):
# make_private accepts it (measured), and in train mode it normalises each sample with its own
# statistics, so the per-sample gradients are exact. (Its running-statistics buffers are computed from
# the private data without noise; that is a release question, not a per-sample-gradient failure.)
import torch.nn as nn


class StyleEncoder(nn.Module):
    def __init__(self, channels=4):
        super().__init__()
        self.conv = nn.Conv2d(3, channels, 3, padding=1)
        self.norm = nn.InstanceNorm2d(channels, track_running_stats=True)
        self.fc = nn.Linear(channels, 2)

    def forward(self, x):
        return self.fc(self.norm(self.conv(x)).relu().mean(dim=(2, 3)))


CASE = {
    "model": "StyleEncoder",
    "inputs": ["float[B, 3, 6, 6]"],
    "runtime": "ok",
}

# The detectron/mmcv recipe done right: frozen BatchNorm kept in eval mode by a `train()` override
# (`norm_eval=True`), so it normalises with its fixed running statistics and never mixes samples.
# make_private accepts it (no trainable parameters) and the per-sample gradients are exact.
import torch.nn as nn


class Backbone(nn.Module):
    def __init__(self, channels=4, num_classes=3):
        super().__init__()
        self.conv = nn.Conv2d(3, channels, 3, padding=1)
        self.bn = nn.BatchNorm2d(channels)
        self.bn.requires_grad_(False)
        self.fc = nn.Linear(channels, num_classes)

    def train(self, mode=True):
        super().train(mode)
        self.bn.eval()  # norm_eval: frozen statistics in training too
        return self

    def forward(self, x):
        return self.fc(self.bn(self.conv(x)).relu().mean(dim=(2, 3)))


CASE = {
    "model": "Backbone",
    "inputs": ["float[B, 3, 6, 6]"],
    "runtime": "ok",
}

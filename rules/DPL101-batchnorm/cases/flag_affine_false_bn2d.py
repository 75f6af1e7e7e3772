# Mirrors a GAN discriminator / normalising block written with `nn.BatchNorm2d(C, affine=False)`
# (no weight and bias). Without parameters it passes make_private, and in train mode it mixes the
# samples of a batch through its statistics: per-sample gradients silently wrong.
import torch.nn as nn


class Discriminator(nn.Module):
    def __init__(self, channels=4):
        super().__init__()
        self.main = nn.Sequential(
            nn.Conv2d(3, channels, 3, stride=2, padding=1),
            nn.LeakyReLU(0.2),
            nn.Conv2d(channels, channels, 3, stride=2, padding=1),
            nn.BatchNorm2d(channels, affine=False),  # expect: DPL101
            nn.LeakyReLU(0.2),
        )
        self.out = nn.Linear(channels * 4, 1)

    def forward(self, x):
        return self.out(self.main(x).flatten(1))


CASE = {
    "model": "Discriminator",
    "inputs": ["float[B, 3, 8, 8]"],
    "runtime": "silent",
}

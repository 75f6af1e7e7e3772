# Mirrors a DP-GAN project (the discriminator is trained with DP-SGD, the generator is not) whose
# script builds both networks on one line: `netG, netD = Generator(), Discriminator()`. Only netD
# is handed to make_private, so only its layers matter: its BatchNorm1d mixes statistics across
# the samples of a batch, and Opacus refuses it ("BatchNorm cannot support training with
# differential privacy"). The generator's BatchNorm is fine: it is never made private.
# Fix: `ModuleValidator.fix(netD)` (GroupNorm) before make_private.
import torch.nn as nn


class Generator(nn.Module):
    def __init__(self, z_dim=8, dim=16):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(z_dim, dim), nn.BatchNorm1d(dim), nn.ReLU(), nn.Linear(dim, dim))

    def forward(self, z):
        return self.net(z)


class Discriminator(nn.Module):
    def __init__(self, dim=16):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(dim, dim),
            nn.GroupNorm(1, dim),  # expect: DPL101
            nn.LeakyReLU(0.2),
            nn.Linear(dim, 1),
        )

    def forward(self, x):
        return self.net(x)


CASE = {
    "model": "Discriminator",
    "inputs": ["float[B, 16]"],
    "runtime": "crash",
    "error": "BatchNorm cannot support training with differential privacy",
}

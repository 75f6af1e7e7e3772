# Part of the multi-file case (see gan_models.py): the DP-GAN training script.
import torch
import torch.nn.functional as F
from opacus import PrivacyEngine

from gan_models import Discriminator, Generator


def train(loader, z_dim=8, epochs=1):
    netG, netD = Generator(z_dim), Discriminator()
    optD = torch.optim.Adam(netD.parameters(), lr=2e-4)
    optG = torch.optim.Adam(netG.parameters(), lr=2e-4)
    netD, optD, loader = PrivacyEngine().make_private(
        module=netD, optimizer=optD, data_loader=loader, noise_multiplier=1.0, max_grad_norm=1.0,
    )
    for _ in range(epochs):
        for (real,) in loader:
            fake = netG(torch.randn(real.shape[0], z_dim))
            optD.zero_grad()
            loss_d = F.softplus(-netD(real)).mean() + F.softplus(netD(fake.detach())).mean()
            loss_d.backward()
            optD.step()
            optD.zero_grad()  # the generator's backward runs through the private netD
            optG.zero_grad()
            F.softplus(-netD(fake)).mean().backward()
            optG.step()

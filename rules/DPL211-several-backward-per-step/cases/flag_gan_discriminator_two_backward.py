"""A DCGAN-style loop (PyTorch's DCGAN tutorial) with a private discriminator: `errD_real.backward()` and
`errD_fake.backward()` before one `optimizerD.step()`. Under Poisson sampling the second backward finds the
first one's per-sample gradients and raises."""

import torch
import torch.nn as nn
from opacus import PrivacyEngine
from torch.utils.data import DataLoader, TensorDataset

NZ = 4


class Generator(nn.Module):
    def __init__(self, nz=NZ, features=8):
        super().__init__()
        self.main = nn.Sequential(nn.Linear(nz, 16), nn.ReLU(), nn.Linear(16, features), nn.Tanh())

    def forward(self, z):
        return self.main(z)


class Discriminator(nn.Module):
    def __init__(self, features=8):
        super().__init__()
        self.main = nn.Sequential(nn.Linear(features, 16), nn.LeakyReLU(0.2), nn.Linear(16, 1))

    def forward(self, x):
        return self.main(x)


def main(epochs=1):
    generator = torch.Generator().manual_seed(0)
    dataset = TensorDataset(torch.randn(64, 8, generator=generator))
    netG, netD = Generator(), Discriminator()
    optimizerD = torch.optim.Adam(netD.parameters(), lr=2e-4, betas=(0.5, 0.999))
    optimizerG = torch.optim.Adam(netG.parameters(), lr=2e-4, betas=(0.5, 0.999))
    privacy_engine = PrivacyEngine()
    netD, optimizerD, dataloader = privacy_engine.make_private(
        module=netD, optimizer=optimizerD, data_loader=DataLoader(dataset, batch_size=16),
        noise_multiplier=1.0, max_grad_norm=1.0,
    )
    criterion = nn.BCEWithLogitsLoss()
    for epoch in range(epochs):
        for (real,) in dataloader:
            # (1) update D: maximize log(D(x)) + log(1 - D(G(z)))
            netD.zero_grad()
            label = torch.ones(real.size(0), 1)
            errD_real = criterion(netD(real), label)
            errD_real.backward()
            noise = torch.randn(real.size(0), NZ)
            fake = netG(noise)
            errD_fake = criterion(netD(fake.detach()), torch.zeros(real.size(0), 1))
            errD_fake.backward()  # expect: DPL211
            optimizerD.step()
            # (2) update G: maximize log(D(G(z)))
            netG.zero_grad()
            optimizerD.zero_grad()
            errG = criterion(netD(fake), label)
            errG.backward()
            optimizerG.step()


CASE = {
    "script": "main",
    "runtime": "crash",
    "error": "Poisson sampling is not compatible with grad accumulation",
}

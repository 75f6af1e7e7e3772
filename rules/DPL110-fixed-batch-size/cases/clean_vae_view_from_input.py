"""The VAE reshaping with the batch it gets (`x.size(0)`), the batch size kept as an attribute."""

import torch
import torch.nn as nn
import torch.nn.functional as F
from opacus import PrivacyEngine
from torch.utils.data import DataLoader, TensorDataset

BATCH_SIZE = 16


class VAE(nn.Module):
    def __init__(self, batch_size=BATCH_SIZE, latent=4):
        super().__init__()
        self.batch_size = batch_size
        self.enc = nn.Linear(64, 2 * latent)
        self.dec = nn.Linear(latent, 64)

    def forward(self, x):
        n = x.size(0)
        h = self.enc(x.view(n, -1))
        mu, logvar = h.chunk(2, dim=1)
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)
        return self.dec(z).view(-1, 1, 8, 8), mu, logvar


def train():
    generator = torch.Generator().manual_seed(0)
    dataset = TensorDataset(torch.rand(64, 1, 8, 8, generator=generator))
    loader = DataLoader(dataset, batch_size=BATCH_SIZE)
    model = VAE()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    engine = PrivacyEngine()
    model, optimizer, loader = engine.make_private(
        module=model, optimizer=optimizer, data_loader=loader, noise_multiplier=1.0, max_grad_norm=1.0)
    for (x,) in loader:
        optimizer.zero_grad()
        recon, mu, logvar = model(x)
        kl = -0.5 * torch.mean(1 + logvar - mu.pow(2) - logvar.exp())
        (F.mse_loss(recon, x) + kl).backward()
        optimizer.step()


CASE = {"script": "train", "runtime": "ok"}

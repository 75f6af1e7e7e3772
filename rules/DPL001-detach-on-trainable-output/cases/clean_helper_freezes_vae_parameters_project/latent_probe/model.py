# Mirrors a latent-space probe trained on a pretrained VAE encoder: the encoder is frozen through a
# project helper that receives `self.vae.parameters()`, and its latents are detached. The frozen
# encoder has no trainable parameter, so Opacus expects no per-sample gradient for it: exact.
import torch.nn as nn

from latent_probe.utils import freeze


class LatentProbe(nn.Module):
    def __init__(self, features=16, latent=8, classes=3):
        super().__init__()
        self.vae = nn.Sequential(nn.Linear(features, latent), nn.Tanh())
        self.head = nn.Linear(latent, classes)
        freeze(self.vae.parameters())

    def forward(self, x):
        latents = self.vae(x).detach()
        return self.head(latents)


CASE = {
    "model": "LatentProbe",
    "inputs": ["float[B, 16]"],
    "runtime": "ok",
}

# Twin of clean_helper_freezes_vae_parameters_project: the helper handed `self.vae.parameters()`
# only counts them, so the VAE encoder stays trainable while its latents are detached. Opacus
# counts its forward but never gets its backward: optimizer.step() raises "Per sample gradient is
# not initialized". Fix: freeze the encoder (or drop the detach).
import torch.nn as nn

from latent_probe.utils import count_parameters
import torch


class LatentProbe(nn.Module):
    def __init__(self, features=16, latent=8, classes=3):
        super().__init__()
        self.vae = nn.Sequential(nn.Linear(features, latent), nn.Tanh())  # expect: DPL003
        self.vae.requires_grad_(False)
        self.head = nn.Linear(latent, classes)
        self.vae_size = count_parameters(self.vae.parameters())

    def forward(self, x):
        with torch.no_grad():
            latents = self.vae(x)  # expect: DPL001
        return self.head(latents)


CASE = {
    "model": "LatentProbe",
    "inputs": ["float[B, 16]"],
    "runtime": "crash",
    "error": "Per sample gradient is not initialized",
}

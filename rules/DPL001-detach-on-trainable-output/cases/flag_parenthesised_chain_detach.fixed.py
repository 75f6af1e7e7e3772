# Mirrors a latent-diffusion style training step written in the black/ruff "fluent" layout: the
# VAE latents are computed by a parenthesised multi-line method chain ending in `.detach()`. The
# VAE is trainable (never frozen), so Opacus counts its forward but never gets its backward:
# optimizer.step() raises "Per sample gradient is not initialized". The fix runs the chain under
# torch.no_grad() and keeps its parentheses (the multi-line chain needs them to parse).
import torch.nn as nn
import torch


class LatentRegressor(nn.Module):
    def __init__(self, features=16, latent=8):
        super().__init__()
        self.vae = nn.Linear(features, latent)  # expect: DPL003
        self.vae.requires_grad_(False)
        self.head = nn.Linear(1, 1)

    def forward(self, x):
        with torch.no_grad():
            latents = (
                self.vae(x)  # expect: DPL001
                .sum(-1, keepdim=True)
            )
        return self.head(latents)


CASE = {
    "model": "LatentRegressor",
    "inputs": ["float[B, 16]"],
    "runtime": "crash",
    "error": "Per sample gradient is not initialized",
}

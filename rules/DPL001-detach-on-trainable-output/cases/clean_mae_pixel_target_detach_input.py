# Mirrors MAE (He et al., 2022) with normalised-pixel targets: the regression target is built from
# the input patches and `.detach()`ed, and the fixed mask is a buffer read with `.detach()`.
# Detaching inputs and buffers cuts no module's gradient, so Opacus' per-sample gradients for the
# encoder and decoder are exact. (Masking is a fixed pattern here, MAE draws it at random; token
# mixing is MLP-Mixer style instead of attention.)
import torch
import torch.nn as nn


class MaskedAutoencoder(nn.Module):
    def __init__(self, num_patches=8, patch_dim=12, embed_dim=16, decoder_dim=8):
        super().__init__()
        self.patch_embed = nn.Linear(patch_dim, embed_dim)
        self.norm = nn.LayerNorm(embed_dim)
        self.token_mixer = nn.Linear(num_patches, num_patches)  # MLP-Mixer-style mixing across patches
        self.channel_mlp = nn.Sequential(nn.Linear(embed_dim, embed_dim), nn.GELU())
        self.decoder_embed = nn.Linear(embed_dim, decoder_dim)
        self.decoder_pred = nn.Linear(decoder_dim, patch_dim)
        mask = torch.zeros(num_patches)
        mask[::2] = 1.0
        self.register_buffer("mask", mask)

    def patch_targets(self, patches):
        target = patches.detach()
        mean = target.mean(dim=-1, keepdim=True)
        var = target.var(dim=-1, keepdim=True)
        return (target - mean) / (var + 1e-6) ** 0.5

    def forward(self, patches):
        mask = self.mask.detach()
        visible = patches * (1 - mask)[None, :, None]
        x = self.patch_embed(visible)
        x = x + self.token_mixer(self.norm(x).transpose(1, 2)).transpose(1, 2)
        latent = self.channel_mlp(x)
        pred = self.decoder_pred(self.decoder_embed(latent))
        err = (pred - self.patch_targets(patches)).pow(2).mean(dim=-1)
        return (err * mask).sum(dim=1) / mask.sum()


CASE = {
    "model": "MaskedAutoencoder",
    "inputs": ["float[B, 8, 12]"],
    "runtime": "ok",
}

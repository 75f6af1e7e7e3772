# Mirrors I-JEPA (Assran et al., 2023) as released: the target encoder is a deep copy of the
# context encoder whose parameters are frozen with `p.requires_grad = False`, and the whole target
# branch (encoder call and layer norm) runs under `torch.no_grad()`. Opacus skips the call and the
# frozen copy owns no trainable parameter: per-sample gradients are exact.
import copy

import torch
from torch import nn
import torch.nn.functional as F


class Block(nn.Module):
    def __init__(self, dim, mlp_ratio=2):
        super().__init__()
        self.norm = nn.LayerNorm(dim)
        self.fc1 = nn.Linear(dim, dim * mlp_ratio)
        self.fc2 = nn.Linear(dim * mlp_ratio, dim)

    def forward(self, x):
        return x + self.fc2(F.gelu(self.fc1(self.norm(x))))


class PatchEncoder(nn.Module):
    def __init__(self, patch_dim=12, dim=16, depth=2):
        super().__init__()
        self.patch_embed = nn.Linear(patch_dim, dim)
        self.blocks = nn.ModuleList([Block(dim) for _ in range(depth)])

    def forward(self, patches):
        x = self.patch_embed(patches)
        for blk in self.blocks:
            x = blk(x)
        return x


class IJEPA(nn.Module):
    def __init__(self, num_context=4):
        super().__init__()
        self.num_context = num_context
        self.context_encoder = PatchEncoder()
        self.predictor = nn.Sequential(nn.Linear(16, 32), nn.GELU(), nn.Linear(32, 16))
        self.target_encoder = copy.deepcopy(self.context_encoder)
        for p in self.target_encoder.parameters():
            p.requires_grad = False

    def forward(self, patches):
        ctx, tgt = patches[:, : self.num_context], patches[:, self.num_context :]
        with torch.no_grad():
            h = self.target_encoder(tgt)
            h = F.layer_norm(h, (h.size(-1),))
        z = self.context_encoder(ctx).mean(dim=1, keepdim=True)
        pred = self.predictor(z).expand(-1, tgt.shape[1], -1)
        return F.smooth_l1_loss(pred, h, reduction="none").mean(dim=(1, 2))


CASE = {
    "model": "IJEPA",
    "inputs": ["float[B, 6, 12]"],
    "runtime": "ok",
}

# Mirrors MoCo's momentum (key) encoder: frozen, run under `torch.no_grad()`, and its output
# normalised and clamped in place. Under no_grad Opacus' hooks do not wrap the outputs (and the
# frozen encoder is not hooked at all), so the in-place ops modify ordinary tensors.
# Measured on Opacus 1.6.0: trains, per-sample gradients exact. Not a DPL104 finding.
import copy

import torch
import torch.nn as nn
import torch.nn.functional as F


class MoCoLite(nn.Module):
    def __init__(self, in_dim=16, dim=8):
        super().__init__()
        self.encoder_q = nn.Sequential(nn.Linear(in_dim, dim), nn.GELU(), nn.Linear(dim, dim))
        self.encoder_k = copy.deepcopy(self.encoder_q)
        for param in self.encoder_k.parameters():
            param.requires_grad = False

    def forward(self, im_q, im_k):
        q = F.normalize(self.encoder_q(im_q), dim=1)
        with torch.no_grad():
            k = self.encoder_k(im_k)
            k.clamp_(-10.0, 10.0)
            k = F.normalize(k, dim=1)
        return -(q * k).sum(dim=1)


CASE = {
    "model": "MoCoLite",
    "inputs": ["float[B, 16]", "float[B, 16]"],
    "runtime": "ok",
}

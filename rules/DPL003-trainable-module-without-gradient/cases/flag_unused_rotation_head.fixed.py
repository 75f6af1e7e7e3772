# Mirrors a SimCLR-style encoder with an auxiliary RotNet head (Gidaris et al., 2018) that was
# switched off in forward during an ablation but is still built in __init__. Its parameters are
# trainable and passed to the optimizer with `model.parameters()`, yet never receive a gradient:
# DPOptimizer.step() raises "Per sample gradient is not initialized".
# Fix: do not build the head (or freeze it) when the auxiliary loss is off.
import torch.nn as nn
import torch.nn.functional as F


class ContrastiveEncoder(nn.Module):
    def __init__(self, in_channels=3, width=8, proj_dim=16):
        super().__init__()
        self.encoder = nn.Sequential(
            nn.Conv2d(in_channels, width, kernel_size=3, padding=1),
            nn.GELU(),
            nn.Conv2d(width, width, kernel_size=3, stride=2, padding=1),
            nn.GELU(),
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
        )
        self.projection = nn.Sequential(nn.Linear(width, proj_dim), nn.GELU(), nn.Linear(proj_dim, proj_dim))
        self.rotation_head = nn.Linear(width, 4)  # expect: DPL003
        self.rotation_head.requires_grad_(False)

    def forward(self, images):
        h = self.encoder(images)
        return F.normalize(self.projection(h), dim=-1) * 4.0


CASE = {
    "model": "ContrastiveEncoder",
    "inputs": ["float[B, 3, 8, 8]"],
    "runtime": "crash",
    "error": "Per sample gradient is not initialized",
}

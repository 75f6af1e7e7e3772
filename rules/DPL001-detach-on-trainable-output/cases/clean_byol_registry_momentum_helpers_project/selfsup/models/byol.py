# Clean twin of flag_byol_registry_momentum_head_not_frozen_project: both momentum copies go through
# the project's `deactivate_requires_grad` helper, so their detached outputs are harmless; exact
# per-sample gradients and train.py runs under opacus 1.6.0 (measured).
import copy

import torch
import torch.nn as nn
import torch.nn.functional as F

from ..utils import deactivate_requires_grad, update_momentum
from .registry import register_model


class ProjectionHead(nn.Module):
    def __init__(self, input_dim=32, hidden_dim=64, output_dim=16):
        super().__init__()
        self.layers = nn.Sequential(
            nn.Linear(input_dim, hidden_dim),
            nn.GroupNorm(4, hidden_dim),
            nn.ReLU(),
            nn.Linear(hidden_dim, output_dim),
        )

    def forward(self, x):
        return self.layers(x)


class Backbone(nn.Module):
    def __init__(self, in_dim=16, width=32):
        super().__init__()
        self.fc1 = nn.Linear(in_dim, width)
        self.fc2 = nn.Linear(width, width)

    def forward(self, x):
        return self.fc2(F.gelu(self.fc1(x)))


@register_model("byol")
class BYOL(nn.Module):
    def __init__(self, in_dim=16, width=32, proj_dim=16):
        super().__init__()
        self.backbone = Backbone(in_dim, width)
        self.projection_head = ProjectionHead(width, 64, proj_dim)
        self.prediction_head = ProjectionHead(proj_dim, 64, proj_dim)

        self.backbone_momentum = copy.deepcopy(self.backbone)
        self.projection_head_momentum = copy.deepcopy(self.projection_head)

        deactivate_requires_grad(self.backbone_momentum)
        deactivate_requires_grad(self.projection_head_momentum)

    def forward(self, x0, x1):
        p0 = self.prediction_head(self.projection_head(self.backbone(x0)))
        z1 = self.projection_head_momentum(self.backbone_momentum(x1)).detach()
        return -F.cosine_similarity(p0, z1, dim=-1)

    @torch.no_grad()
    def momentum_step(self, m):
        update_momentum(self.backbone, self.backbone_momentum, m)
        update_momentum(self.projection_head, self.projection_head_momentum, m)


def build_byol():
    return BYOL()


CASE = {
    "model": "build_byol",
    "inputs": ["float[B, 16]", "float[B, 16]"],
    "runtime": "ok",
}

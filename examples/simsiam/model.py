"""SimSiam with an asymmetric loss: only view 1 goes through the predictor.

The second encoder call feeds the loss only through `.detach()`: Opacus counts the call
but never sees its backward, and `optimizer.step()` raises
`ValueError: Per sample gradient is not initialized`.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F


def projection_mlp(in_dim: int, out_dim: int) -> nn.Sequential:
    return nn.Sequential(nn.Linear(in_dim, out_dim), nn.GELU(), nn.Linear(out_dim, out_dim))


class SimSiam(nn.Module):
    def __init__(self, in_dim: int = 32, dim: int = 16):
        super().__init__()
        self.encoder = projection_mlp(in_dim, dim)
        self.predictor = nn.Sequential(nn.Linear(dim, dim // 2), nn.GELU(), nn.Linear(dim // 2, dim))

    def forward(self, x1: torch.Tensor, x2: torch.Tensor) -> torch.Tensor:
        z1 = self.encoder(x1)
        z2 = self.encoder(x2).detach()  # stop-gradient on the target branch
        p1 = self.predictor(z1)
        return -F.cosine_similarity(p1, z2, dim=-1)

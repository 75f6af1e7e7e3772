# Mirrors I-JEPA (Assran et al., 2023): a context encoder and a predictor regress the
# layer-normalised features of target patches produced by an EMA copy of the encoder. I-JEPA runs
# the whole target branch under `torch.no_grad()`; here the target encoder is called before the
# block and only its layer norm sits inside it. The call is recorded by Opacus' forward hook but no
# gradient ever comes back, and the copy is not frozen: DPOptimizer.step() raises
# "Per sample gradient is not initialized". Fix: move the encoder call into the no_grad block and
# freeze the copy.
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
        self.target_encoder = copy.deepcopy(self.context_encoder)  # expect: DPL003
        self.target_encoder.requires_grad_(False)

    def forward(self, patches):
        ctx, tgt = patches[:, : self.num_context], patches[:, self.num_context :]
        z = self.context_encoder(ctx).mean(dim=1, keepdim=True)
        pred = self.predictor(z).expand(-1, tgt.shape[1], -1)
        with torch.no_grad():
            h = self.target_encoder(tgt)
        with torch.no_grad():
            h = F.layer_norm(h, (h.size(-1),))  # expect: DPL001
        return F.smooth_l1_loss(pred, h, reduction="none").mean(dim=(1, 2))


CASE = {
    "model": "IJEPA",
    "inputs": ["float[B, 6, 12]"],
    "runtime": "crash",
    "error": "Per sample gradient is not initialized",
}

# Part of the multi-file I-JEPA case (see src/jepa.py): ViT-like encoder (MLP blocks) and predictor.
import torch.nn as nn
import torch.nn.functional as F


class MLPBlock(nn.Module):
    def __init__(self, dim, hidden):
        super().__init__()
        self.norm = nn.LayerNorm(dim)
        self.fc1 = nn.Linear(dim, hidden)
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x):
        return x + self.fc2(F.gelu(self.fc1(self.norm(x))))


class VisionEncoder(nn.Module):
    def __init__(self, patch_dim=12, embed_dim=16, depth=2):
        super().__init__()
        self.patch_embed = nn.Linear(patch_dim, embed_dim)
        self.blocks = nn.ModuleList([MLPBlock(embed_dim, 2 * embed_dim) for _ in range(depth)])
        self.norm = nn.LayerNorm(embed_dim)

    def forward(self, x):
        x = self.patch_embed(x)
        for block in self.blocks:
            x = block(x)
        return self.norm(x)


class Predictor(nn.Module):
    def __init__(self, embed_dim=16, predictor_dim=8):
        super().__init__()
        self.embed = nn.Linear(embed_dim, predictor_dim)
        self.block = MLPBlock(predictor_dim, 2 * predictor_dim)
        self.proj = nn.Linear(predictor_dim, embed_dim)

    def forward(self, context, num_targets):
        x = self.block(self.embed(context.mean(dim=1, keepdim=True)))
        return self.proj(x).expand(-1, num_targets, -1)

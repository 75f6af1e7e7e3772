"""A ViT-style classifier that prepends a learned class token, expanded to the configured batch size."""

import torch
import torch.nn as nn
from config import BATCH_SIZE


class TinyViT(nn.Module):
    def __init__(self, dim, classes):
        super().__init__()
        self.cls_token = nn.Parameter(torch.zeros(1, 1, dim))
        self.mix = nn.Linear(dim, dim)
        self.head = nn.Linear(dim, classes)

    def forward(self, tokens):
        cls = self.cls_token.expand(BATCH_SIZE, -1, -1)  # expect: DPL110
        h = torch.tanh(self.mix(torch.cat([cls, tokens], dim=1)))
        return self.head(h[:, 0])


"""The denoiser with an offset buffer that broadcasts over the batch."""

import torch
import torch.nn as nn


class Denoiser(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.register_buffer("offset", torch.zeros(1, cfg.hidden))
        self.fc = nn.Linear(cfg.hidden, 2)

    def forward(self, x):
        return self.fc(x + self.offset)

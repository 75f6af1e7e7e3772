"""A denoiser with a learned-free offset buffer sized from the config's batch size."""

import torch
import torch.nn as nn


class Denoiser(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.register_buffer("offset", torch.zeros(cfg.batch_size, cfg.hidden))  # expect: DPL110
        self.fc = nn.Linear(cfg.hidden, 2)

    def forward(self, x):
        return self.fc(x + self.offset)

"""A classifier with a learnable temperature whose attention registers a mask only when the
config asks for a causal model (it does not), and `None` otherwise."""

from dataclasses import dataclass

import torch
import torch.nn as nn


@dataclass
class Config:
    width: int = 16
    length: int = 7
    causal: bool = False


class Mixer(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.proj = nn.Linear(cfg.width, cfg.width)
        if cfg.causal:
            self.register_buffer("mask", torch.tril(torch.ones(cfg.length, cfg.length)))
        else:
            self.register_buffer("mask", None)

    def forward(self, x):
        scores = x @ x.transpose(1, 2)
        if self.mask is not None:
            scores = scores.masked_fill(self.mask == 0, float("-inf"))
        return self.proj(scores.softmax(-1) @ x)


class Classifier(nn.Module):
    def __init__(self, cfg=Config()):
        super().__init__()
        self.embed = nn.Embedding(50, cfg.width)
        self.mixer = Mixer(cfg)
        self.temperature = nn.Parameter(torch.ones([]))
        self.head = nn.Linear(cfg.width, 3)

    def forward(self, tokens):
        h = self.mixer(self.embed(tokens))
        return self.head(h.mean(1)) / self.temperature


CASE = {"model": "Classifier", "inputs": ["long[B, 7] < 50"], "runtime": "ok"}

"""Momentum-encoder helpers (in the style of lightly.models.utils)."""
import math

import torch
import torch.nn as nn


def deactivate_requires_grad(model: nn.Module) -> None:
    """Freeze every parameter of `model` (the momentum branch is updated by EMA only)."""
    for param in model.parameters():
        param.requires_grad = False


@torch.no_grad()
def update_momentum(model: nn.Module, model_ema: nn.Module, m: float) -> None:
    for model_ema_p, model_p in zip(model_ema.parameters(), model.parameters()):
        model_ema_p.data = model_ema_p.data * m + model_p.data * (1.0 - m)


def cosine_schedule(step: int, max_steps: int, start_value: float, end_value: float) -> float:
    if max_steps == 1:
        return end_value
    return end_value - (end_value - start_value) * (math.cos(math.pi * step / (max_steps - 1)) + 1) / 2

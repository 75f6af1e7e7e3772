# Part of the multi-file case (see train.py): the experiment's settings.
from dataclasses import dataclass


@dataclass
class TrainConfig:
    in_features: int = 12
    embed_dim: int = 8
    batch_size: int = 8
    lr: float = 0.05
    noise_multiplier: float = 1.0
    max_grad_norm: float = 1.0
    grad_sample_mode: str = "ghost"

# Part of the multi-file case (see train.py): the privacy configuration.
from dataclasses import dataclass


@dataclass
class DPConfig:
    grad_sample_mode: str = "ghost"
    noise_multiplier: float = 0.0
    max_grad_norm: float = 0.01
    batch_size: int = 16
    lr: float = 0.1
    clipping: str = "flat"

# Part of the multi-file case (see train.py): the run's configuration.
from dataclasses import dataclass


@dataclass
class Config:
    epochs: int = 2
    batch_size: int = 10
    lr: float = 0.1
    noise_multiplier: float = 1.0
    max_grad_norm: float = 1.0
    log_every: int = 1

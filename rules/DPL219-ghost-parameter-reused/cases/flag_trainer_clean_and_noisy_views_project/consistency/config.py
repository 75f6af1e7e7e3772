# Part of the multi-file case (see train.py): the experiment's settings.
from dataclasses import dataclass


@dataclass
class TrainConfig:
    in_features: int = 12
    width: int = 16
    num_classes: int = 4
    lr: float = 0.05
    batch_size: int = 16
    epochs: int = 1
    noise_std: float = 0.1
    noise_multiplier: float = 1.0
    max_grad_norm: float = 1.0
    grad_sample_mode: str = "ghost"

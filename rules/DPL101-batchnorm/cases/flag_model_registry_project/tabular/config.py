# Part of the multi-file case (see models.py): the experiment's configuration.
from dataclasses import dataclass


@dataclass
class TrainConfig:
    in_dim: int = 20
    hidden: int = 32
    arch: str = "bn_mlp"
    lr: float = 0.1
    noise_multiplier: float = 1.0

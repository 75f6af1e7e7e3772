# Part of the multi-file case (see textcls/model.py): the run configuration.
from dataclasses import dataclass


@dataclass
class TrainConfig:
    vocab_size: int = 50
    embed_dim: int = 8
    hidden: int = 16
    num_classes: int = 3
    batch_first: bool = True
    lr: float = 0.1
    noise_multiplier: float = 1.0
    max_grad_norm: float = 1.0
    epochs: int = 1

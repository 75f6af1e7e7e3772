# Part of the multi-file case (see train.py): the experiment's settings.
from dataclasses import dataclass


@dataclass
class ExperimentConfig:
    arch: str = "bag_of_embeddings"
    vocab_size: int = 100
    embed_dim: int = 16
    num_labels: int = 3
    lr: float = 0.01
    batch_size: int = 16
    epochs: int = 2
    noise_multiplier: float = 1.0
    max_grad_norm: float = 1.0
    grad_sample_mode: str = "hooks"

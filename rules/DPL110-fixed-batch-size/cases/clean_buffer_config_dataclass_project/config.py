"""The run's settings."""

from dataclasses import dataclass


@dataclass
class TrainConfig:
    batch_size: int = 16
    hidden: int = 12
    lr: float = 0.05
    epochs: int = 1

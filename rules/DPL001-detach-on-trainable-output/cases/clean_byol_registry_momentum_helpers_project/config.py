from dataclasses import dataclass, field


@dataclass
class OptimConfig:
    lr: float = 0.06
    momentum: float = 0.9
    weight_decay: float = 5e-4


@dataclass
class PrivacyConfig:
    noise_multiplier: float = 1.1
    max_grad_norm: float = 1.0
    delta: float = 1e-5


@dataclass
class TrainConfig:
    model: str = "byol"
    epochs: int = 1
    batch_size: int = 32
    momentum_start: float = 0.99
    optim: OptimConfig = field(default_factory=OptimConfig)
    privacy: PrivacyConfig = field(default_factory=PrivacyConfig)

from dataclasses import dataclass


@dataclass
class TrainConfig:
    noise_multiplier: float = 1.0
    max_grad_norm: float = 1.0
    # Keep the module's own class and state_dict keys: opacus puts its hooks on it in place.
    wrap_model: bool = False
    epochs: int = 2
    lr: float = 0.05

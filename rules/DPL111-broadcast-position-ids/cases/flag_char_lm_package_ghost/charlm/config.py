from dataclasses import dataclass


@dataclass
class ModelConfig:
    vocab_size: int = 40
    block_size: int = 16
    n_embd: int = 24
    n_classes: int = 4

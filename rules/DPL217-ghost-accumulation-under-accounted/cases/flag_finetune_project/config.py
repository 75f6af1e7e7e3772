from dataclasses import dataclass


@dataclass
class TrainingArguments:
    per_device_train_batch_size: int = 8
    gradient_accumulation_steps: int = 2
    learning_rate: float = 5e-4
    num_train_epochs: int = 1
    noise_multiplier: float = 1.0
    max_grad_norm: float = 1.0

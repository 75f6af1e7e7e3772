from dataclasses import dataclass


@dataclass
class TrainingArguments:
    per_device_train_batch_size: int = 8
    learning_rate: float = 5e-4
    num_train_epochs: int = 3


@dataclass
class PrivacyArguments:
    target_epsilon: float = 8.0
    target_delta: float = 1e-5
    per_sample_max_grad_norm: float = 1.0
    epochs: int = 1

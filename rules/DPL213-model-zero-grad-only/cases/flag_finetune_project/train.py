"""Fine-tuning split over files: arguments in config.py, the model in model.py, the epoch loop in loop.py
(which clears with `model.zero_grad()` after each step, as older Hugging Face scripts did); `make_private`
here. The DP optimizer's second step raises."""

import torch
from config import TrainingArguments
from loop import train_epoch
from model import SequenceClassifier
from opacus import PrivacyEngine
from torch.utils.data import DataLoader, TensorDataset


def main():
    args = TrainingArguments()
    generator = torch.Generator().manual_seed(0)
    dataset = TensorDataset(torch.randint(0, 50, (64, 10), generator=generator),
                            torch.randint(0, 2, (64,), generator=generator))
    model = SequenceClassifier()
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.learning_rate)
    privacy_engine = PrivacyEngine()
    model, optimizer, train_dataloader = privacy_engine.make_private(
        module=model, optimizer=optimizer,
        data_loader=DataLoader(dataset, batch_size=args.per_device_train_batch_size),
        noise_multiplier=args.noise_multiplier, max_grad_norm=args.max_grad_norm,
    )
    for epoch in range(args.num_train_epochs):
        train_epoch(model, optimizer, train_dataloader)


CASE = {
    "script": "main",
    "runtime": "crash",
    "error": "Gradients haven't been cleared since the last optimizer step",
}

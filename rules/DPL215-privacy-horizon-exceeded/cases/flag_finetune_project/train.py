"""Fine-tuning split over files: `TrainingArguments.num_train_epochs = 3` and `PrivacyArguments.epochs = 1` in
config.py (the privacy arguments were written for a one-epoch run), the epoch loop here, calling `train_epoch`
of loop.py once per epoch. Three epochs run on noise calibrated for one."""

import torch
from config import PrivacyArguments, TrainingArguments
from loop import train_epoch
from model import SequenceClassifier
from opacus import PrivacyEngine
from torch.utils.data import DataLoader, TensorDataset


def main():
    args = TrainingArguments()
    privacy_args = PrivacyArguments()
    generator = torch.Generator().manual_seed(0)
    dataset = TensorDataset(torch.randint(0, 50, (32, 10), generator=generator),
                            torch.randint(0, 2, (32,), generator=generator))
    model = SequenceClassifier()
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.learning_rate)
    privacy_engine = PrivacyEngine()
    model, optimizer, train_dataloader = privacy_engine.make_private_with_epsilon(
        module=model, optimizer=optimizer,
        data_loader=DataLoader(dataset, batch_size=args.per_device_train_batch_size),
        target_epsilon=privacy_args.target_epsilon, target_delta=privacy_args.target_delta,
        epochs=privacy_args.epochs, max_grad_norm=privacy_args.per_sample_max_grad_norm,
    )
    for epoch in range(args.num_train_epochs):  # expect: DPL215
        train_epoch(model, optimizer, train_dataloader)


CASE = {
    "script": "main",
    "runtime": "silent",
    "violation": "budget",
}

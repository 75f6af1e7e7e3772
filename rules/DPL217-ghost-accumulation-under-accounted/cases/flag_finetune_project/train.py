"""Fine-tuning split over files: the arguments dataclass in config.py (`gradient_accumulation_steps = 2`), the
model in model.py, the loop here, with ghost clipping (the memory-saving mode, chosen for a large model). Ghost
mode accumulates without an error, and the accountant counts one batch per step: the reported ε is too small."""

import torch
import torch.nn as nn
from config import TrainingArguments
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
    model, optimizer, criterion, train_dataloader = privacy_engine.make_private(
        module=model, optimizer=optimizer,
        data_loader=DataLoader(dataset, batch_size=args.per_device_train_batch_size),
        criterion=nn.CrossEntropyLoss(), noise_multiplier=args.noise_multiplier, max_grad_norm=args.max_grad_norm,
        grad_sample_mode="ghost",
    )
    global_step = 0
    for epoch in range(args.num_train_epochs):
        model.train()
        for step, (input_ids, labels) in enumerate(train_dataloader):
            loss = criterion(model(input_ids), labels)
            loss.backward()  # expect: DPL217
            if (step + 1) % args.gradient_accumulation_steps == 0:
                optimizer.step()
                optimizer.zero_grad()
                global_step += 1


CASE = {
    "script": "main",
    "runtime": "silent",
    "violation": "accounting",
    "opacus": ">=1.5",  # ghost clipping (make_private's criterion=) exists since 1.5
}

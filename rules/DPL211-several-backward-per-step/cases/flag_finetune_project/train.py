"""Fine-tuning split over files: the arguments dataclass in config.py (`gradient_accumulation_steps = 2`), the
model in model.py, the loop here. Under Poisson sampling the second batch's backward raises."""

import torch
import torch.nn.functional as F
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
    model, optimizer, train_dataloader = privacy_engine.make_private(
        module=model, optimizer=optimizer,
        data_loader=DataLoader(dataset, batch_size=args.per_device_train_batch_size),
        noise_multiplier=args.noise_multiplier, max_grad_norm=args.max_grad_norm,
    )
    global_step = 0
    for epoch in range(args.num_train_epochs):
        model.train()
        for step, (input_ids, labels) in enumerate(train_dataloader):
            loss = F.cross_entropy(model(input_ids), labels)
            if args.gradient_accumulation_steps > 1:
                loss = loss / args.gradient_accumulation_steps
            loss.backward()  # expect: DPL211
            if (step + 1) % args.gradient_accumulation_steps == 0:
                optimizer.step()
                optimizer.zero_grad()
                global_step += 1


CASE = {
    "script": "main",
    "runtime": "crash",
    "error": "Poisson sampling is not compatible with grad accumulation",
}

"""The Hugging Face-style fine-tuning script with `--gradient_accumulation_steps` left at its default 1: the test
`step % 1 == 0` always holds, so the optimizer steps and clears after every backward."""

import argparse

import torch
import torch.nn as nn
import torch.nn.functional as F
from opacus import PrivacyEngine
from torch.utils.data import DataLoader, TensorDataset


class TextClassifier(nn.Module):
    def __init__(self, vocab_size=50, dim=16, num_labels=2):
        super().__init__()
        self.embeddings = nn.Embedding(vocab_size, dim)
        self.classifier = nn.Linear(dim, num_labels)

    def forward(self, input_ids):
        return self.classifier(self.embeddings(input_ids).mean(dim=1))


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description="Fine-tune a text classifier with DP-SGD")
    parser.add_argument("--per_device_train_batch_size", type=int, default=8)
    parser.add_argument("--gradient_accumulation_steps", type=int, default=1,
                        help="Number of updates steps to accumulate before performing a backward/update pass.")
    parser.add_argument("--learning_rate", type=float, default=5e-4)
    parser.add_argument("--num_train_epochs", type=int, default=1)
    parser.add_argument("--target_epsilon", type=float, default=8.0)
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    generator = torch.Generator().manual_seed(0)
    dataset = TensorDataset(torch.randint(0, 50, (64, 12), generator=generator),
                            torch.randint(0, 2, (64,), generator=generator))
    train_dataloader = DataLoader(dataset, batch_size=args.per_device_train_batch_size, shuffle=True)
    model = TextClassifier()
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.learning_rate)
    privacy_engine = PrivacyEngine()
    model, optimizer, train_dataloader = privacy_engine.make_private_with_epsilon(
        module=model, optimizer=optimizer, data_loader=train_dataloader,
        target_epsilon=args.target_epsilon, target_delta=1e-5, epochs=args.num_train_epochs, max_grad_norm=1.0,
    )
    completed_steps = 0
    for epoch in range(args.num_train_epochs):
        model.train()
        for step, (input_ids, labels) in enumerate(train_dataloader):
            logits = model(input_ids)
            loss = F.cross_entropy(logits, labels)
            loss = loss / args.gradient_accumulation_steps
            loss.backward()
            if step % args.gradient_accumulation_steps == 0 or step == len(train_dataloader) - 1:
                optimizer.step()
                optimizer.zero_grad()
                completed_steps += 1
    print(f"steps {completed_steps}, epsilon {privacy_engine.get_epsilon(1e-5):.2f}")


CASE = {
    "script": "main",
    "args": [[]],
    "runtime": "ok",
}

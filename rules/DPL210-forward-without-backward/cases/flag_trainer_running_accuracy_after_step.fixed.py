"""A Trainer class: `__init__` makes the model private, `fit()` trains and, after each
`optimizer.step()`, runs the private model again on the batch to track a running accuracy. That
forward is recorded by Opacus' hooks and never backward-ed, so the next batch's step raises."""

from dataclasses import dataclass

import torch
import torch.nn as nn
from opacus import PrivacyEngine
from torch.utils.data import DataLoader, TensorDataset


@dataclass
class TrainConfig:
    epochs: int = 1
    batch_size: int = 8
    lr: float = 0.05
    noise_multiplier: float = 1.0
    max_grad_norm: float = 1.0


class TextCNNHead(nn.Module):
    def __init__(self, dim=12, classes=2):
        super().__init__()
        self.proj = nn.Linear(dim, dim)
        self.out = nn.Linear(dim, classes)

    def forward(self, x):
        return self.out(torch.tanh(self.proj(x)))


class Trainer:
    def __init__(self, config: TrainConfig, dataset):
        self.config = config
        model = TextCNNHead()
        optimizer = torch.optim.Adam(model.parameters(), lr=config.lr)
        self.engine = PrivacyEngine()
        self.model, self.optimizer, self.loader = self.engine.make_private(
            module=model, optimizer=optimizer, data_loader=DataLoader(dataset, batch_size=config.batch_size),
            noise_multiplier=config.noise_multiplier, max_grad_norm=config.max_grad_norm,
        )
        self.criterion = nn.CrossEntropyLoss()

    def fit(self):
        for _ in range(self.config.epochs):
            self.model.train()
            correct, seen = 0, 0
            for x, y in self.loader:
                self.optimizer.zero_grad()
                loss = self.criterion(self.model(x), y)
                loss.backward()
                self.optimizer.step()
                with torch.no_grad():
                    logits = self.model(x)  # expect: DPL210
                correct += (logits.argmax(-1) == y).sum().item()
                seen += len(y)
            print(f"train accuracy {correct / max(seen, 1):.3f}")


def main():
    generator = torch.Generator().manual_seed(1)
    dataset = TensorDataset(torch.randn(40, 12, generator=generator), torch.randint(0, 2, (40,), generator=generator))
    Trainer(TrainConfig(), dataset).fit()


CASE = {
    "script": "main",
    "runtime": "crash",
    "error": "Per sample gradient is not initialized",
}

"""A trainer class without `wrap_model` (default True): `self.model` is the GradSampleModule
`make_private` returns, so `self.model.train()` and calling it in `fit()` are right."""

import torch
import torch.nn as nn
from opacus import PrivacyEngine
from torch.utils.data import DataLoader, TensorDataset


class TextClassifier(nn.Module):
    def __init__(self, vocab=50, dim=8, classes=2):
        super().__init__()
        self.embed = nn.Embedding(vocab, dim)
        self.head = nn.Linear(dim, classes)

    def forward(self, tokens):
        return self.head(self.embed(tokens).mean(1))


class DPTrainer:
    def __init__(self, model, loader, epochs=2):
        self.model = model
        self.loader = loader
        self.epochs = epochs
        self.optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
        self.criterion = nn.CrossEntropyLoss()
        self.engine = PrivacyEngine()

    def setup(self):
        self.model, self.optimizer, self.loader = self.engine.make_private(
            module=self.model, optimizer=self.optimizer, data_loader=self.loader,
            noise_multiplier=1.0, max_grad_norm=1.0,
        )

    def fit(self):
        for _ in range(self.epochs):
            self.model.train()
            for tokens, labels in self.loader:
                self.optimizer.zero_grad()
                self.criterion(self.model(tokens), labels).backward()
                self.optimizer.step()


def main():
    generator = torch.Generator().manual_seed(3)
    data = TensorDataset(torch.randint(0, 50, (32, 7), generator=generator), torch.randint(0, 2, (32,), generator=generator))
    trainer = DPTrainer(TextClassifier(), DataLoader(data, batch_size=8))
    trainer.setup()
    trainer.fit()


CASE = {
    "script": "main",
    "runtime": "ok",
}

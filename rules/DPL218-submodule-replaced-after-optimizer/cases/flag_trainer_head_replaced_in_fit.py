"""A Trainer builds its optimizer in `__init__` from the model it is given; `fit()` adapts the model to the
dataset's classes (`self.model.classifier = ...`) and then makes it private. The optimizer holds the old
classifier: make_private raises."""

import torch
import torch.nn as nn
from opacus import PrivacyEngine
from torch.utils.data import DataLoader, TensorDataset


class TextClassifier(nn.Module):
    def __init__(self, vocab_size=50, dim=16, num_labels=2):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, dim)
        self.encoder = nn.Linear(dim, dim)
        self.classifier = nn.Linear(dim, num_labels)

    def forward(self, tokens):
        return self.classifier(torch.tanh(self.encoder(self.embedding(tokens).mean(dim=1))))


class Trainer:
    def __init__(self, model, lr=1e-3, noise_multiplier=1.0, max_grad_norm=1.0):
        self.model = model
        self.optimizer = torch.optim.AdamW(self.model.parameters(), lr=lr)
        self.noise_multiplier = noise_multiplier
        self.max_grad_norm = max_grad_norm
        self.privacy_engine = PrivacyEngine()

    def fit(self, dataset, num_labels, epochs=1):
        self.model.classifier = nn.Linear(16, num_labels)  # expect: DPL218
        self.model, self.optimizer, loader = self.privacy_engine.make_private(
            module=self.model, optimizer=self.optimizer, data_loader=DataLoader(dataset, batch_size=8),
            noise_multiplier=self.noise_multiplier, max_grad_norm=self.max_grad_norm,
        )
        for _ in range(epochs):
            for tokens, labels in loader:
                self.optimizer.zero_grad()
                nn.functional.cross_entropy(self.model(tokens), labels).backward()
                self.optimizer.step()


def main():
    generator = torch.Generator().manual_seed(0)
    dataset = TensorDataset(torch.randint(0, 50, (32, 6), generator=generator),
                            torch.randint(0, 3, (32,), generator=generator))
    Trainer(TextClassifier()).fit(dataset, num_labels=3)


CASE = {
    "script": "main",
    "runtime": "crash",
    "error": "Module parameters are different than optimizer Parameters",
}

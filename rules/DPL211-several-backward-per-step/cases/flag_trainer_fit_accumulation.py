"""A trainer class: `__init__` makes the model private and keeps `accumulation_steps=2`, `fit()` accumulates
the gradients of two batches per step through a `training_step` method. Under Poisson sampling the second
batch's backward raises."""

import torch
import torch.nn as nn
import torch.nn.functional as F
from opacus import PrivacyEngine
from torch.utils.data import DataLoader, TensorDataset


class ConvNet(nn.Module):
    def __init__(self, channels=4, classes=10):
        super().__init__()
        self.conv = nn.Conv2d(1, channels, 3, padding=1)
        self.head = nn.Linear(channels * 8 * 8, classes)

    def forward(self, x):
        return self.head(torch.relu(self.conv(x)).flatten(1))


class Trainer:
    def __init__(self, model, train_set, epochs=1, batch_size=8, accumulation_steps=2, noise_multiplier=1.0):
        self.epochs = epochs
        self.accumulation_steps = accumulation_steps
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
        self.privacy_engine = PrivacyEngine()
        self.model, self.optimizer, self.train_loader = self.privacy_engine.make_private(
            module=model, optimizer=optimizer, data_loader=DataLoader(train_set, batch_size=batch_size),
            noise_multiplier=noise_multiplier, max_grad_norm=1.0,
        )

    def training_step(self, images, labels):
        return F.cross_entropy(self.model(images), labels)

    def fit(self):
        for epoch in range(self.epochs):
            self.model.train()
            for step, (images, labels) in enumerate(self.train_loader):
                loss = self.training_step(images, labels) / self.accumulation_steps
                loss.backward()  # expect: DPL211
                if (step + 1) % self.accumulation_steps == 0:
                    self.optimizer.step()
                    self.optimizer.zero_grad(set_to_none=True)
            print(f"epoch {epoch}: loss {loss.item():.3f}")


def main():
    generator = torch.Generator().manual_seed(0)
    train_set = TensorDataset(torch.randn(64, 1, 8, 8, generator=generator),
                              torch.randint(0, 10, (64,), generator=generator))
    Trainer(ConvNet(), train_set).fit()


CASE = {
    "script": "main",
    "runtime": "crash",
    "error": "Poisson sampling is not compatible with grad accumulation",
}

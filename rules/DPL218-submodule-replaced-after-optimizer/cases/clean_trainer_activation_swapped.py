"""A Trainer swaps the model's activation (`ReLU` for `GELU`, both parameter-free) after building its optimizer,
and a new head is given before the optimizer is built. No parameter the optimizer holds leaves the model:
make_private accepts it and it trains (measured, opacus 1.4.1-1.6.0)."""

import torch
import torch.nn as nn
from opacus import PrivacyEngine
from torch.utils.data import DataLoader, TensorDataset


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(8, 16)
        self.act = nn.ReLU()
        self.fc2 = nn.Linear(16, 1000)

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))


class Trainer:
    def __init__(self, model, num_classes, lr=0.05):
        self.model = model
        self.model.fc2 = nn.Linear(16, num_classes)
        self.optimizer = torch.optim.SGD(self.model.parameters(), lr=lr)
        self.privacy_engine = PrivacyEngine()

    def fit(self, dataset):
        self.model.act = nn.GELU()
        self.model, self.optimizer, loader = self.privacy_engine.make_private(
            module=self.model, optimizer=self.optimizer, data_loader=DataLoader(dataset, batch_size=8),
            noise_multiplier=1.0, max_grad_norm=1.0,
        )
        for x, y in loader:
            self.optimizer.zero_grad()
            nn.functional.cross_entropy(self.model(x), y).backward()
            self.optimizer.step()


def main():
    generator = torch.Generator().manual_seed(0)
    dataset = TensorDataset(torch.randn(32, 8, generator=generator), torch.randint(0, 3, (32,), generator=generator))
    Trainer(MLP(), num_classes=3).fit(dataset)


CASE = {
    "script": "main",
    "runtime": "ok",
}

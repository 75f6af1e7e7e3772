"""The Trainer fixes the model in fit() and builds the optimizer again from the fixed model before
make_private (the one built in __init__ is discarded)."""

import torch
import torch.nn as nn
from opacus import PrivacyEngine
from opacus.validators import ModuleValidator
from torch.utils.data import DataLoader, TensorDataset


class ConvNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3)
        self.bn = nn.BatchNorm2d(4)
        self.head = nn.Linear(4 * 6 * 6, 3)

    def forward(self, x):
        return self.head(torch.relu(self.bn(self.conv(x))).flatten(1))


class Trainer:
    def __init__(self, model, dataset, lr=0.01):
        self.model = model
        self.lr = lr
        self.loader = DataLoader(dataset, batch_size=8)
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=lr)
        self.criterion = nn.CrossEntropyLoss()
        self.privacy_engine = PrivacyEngine()

    def fit(self, epochs=1):
        self.model = ModuleValidator.fix(self.model)
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=self.lr)
        self.model, self.optimizer, self.loader = self.privacy_engine.make_private(
            module=self.model, optimizer=self.optimizer, data_loader=self.loader,
            noise_multiplier=1.0, max_grad_norm=1.0,
        )
        for _ in range(epochs):
            for x, y in self.loader:
                self.optimizer.zero_grad()
                self.criterion(self.model(x), y).backward()
                self.optimizer.step()


def run():
    generator = torch.Generator().manual_seed(3)
    dataset = TensorDataset(torch.randn(32, 1, 8, 8, generator=generator), torch.randint(0, 3, (32,), generator=generator))
    Trainer(ConvNet(), dataset).fit()


CASE = {
    "script": "run",
    "runtime": "ok",
    "opacus": ">=1.5.3",  # before 1.5.3 ModuleValidator.fix fails on torch >= 2.6 (UnpicklingError)
}

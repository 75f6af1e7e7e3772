"""A Trainer that builds its settings object in `__init__`: the engine call reads `self.settings.privacy_epochs`
(1) while `fit()` runs `self.settings.max_epochs` (3) epochs over the private loader."""

from dataclasses import dataclass

import torch
import torch.nn as nn
from opacus import PrivacyEngine
from torch.utils.data import DataLoader, TensorDataset


class ConvNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3)
        self.head = nn.Linear(4 * 6 * 6, 10)

    def forward(self, x):
        return self.head(torch.relu(self.conv(x)).flatten(1))


@dataclass
class TrainerSettings:
    max_epochs: int = 3
    privacy_epochs: int = 1
    target_epsilon: float = 4.0


class Trainer:
    def __init__(self, model, dataset):
        self.settings = TrainerSettings()
        self.delta = 1e-5
        self.criterion = nn.CrossEntropyLoss()
        optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
        self.privacy_engine = PrivacyEngine(accountant="rdp")
        self.model, self.optimizer, self.loader = self.privacy_engine.make_private_with_epsilon(
            module=model, optimizer=optimizer, data_loader=DataLoader(dataset, batch_size=8),
            target_epsilon=self.settings.target_epsilon, target_delta=self.delta,
            epochs=self.settings.privacy_epochs, max_grad_norm=1.0,
        )

    def fit(self):
        for epoch in range(self.settings.max_epochs):  # expect: DPL215
            self.model.train()
            for images, labels in self.loader:
                self.optimizer.zero_grad()
                self.criterion(self.model(images), labels).backward()
                self.optimizer.step()


def run():
    generator = torch.Generator().manual_seed(0)
    dataset = TensorDataset(torch.randn(32, 1, 8, 8, generator=generator),
                            torch.randint(0, 10, (32,), generator=generator))
    Trainer(ConvNet(), dataset).fit()


CASE = {
    "script": "run",
    "runtime": "silent",
    "violation": "budget",
}

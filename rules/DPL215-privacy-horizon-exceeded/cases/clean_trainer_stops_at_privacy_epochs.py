"""A Trainer with `max_epochs` (5) larger than the privacy horizon (2), whose `fit()` stops when the planned
epochs are done (`if epoch == self.settings.privacy_epochs: break`): two epochs run, the target holds. (dp-lint
does not count epochs of a loop that can break.)"""

from dataclasses import dataclass

import torch
import torch.nn as nn
from opacus import PrivacyEngine
from torch.utils.data import DataLoader, TensorDataset


@dataclass
class TrainerSettings:
    max_epochs: int = 5
    privacy_epochs: int = 2
    target_epsilon: float = 4.0


class Trainer:
    def __init__(self, model, dataset):
        self.settings = TrainerSettings()
        self.criterion = nn.CrossEntropyLoss()
        optimizer = torch.optim.SGD(model.parameters(), lr=0.05)
        self.privacy_engine = PrivacyEngine()
        self.model, self.optimizer, self.loader = self.privacy_engine.make_private_with_epsilon(
            module=model, optimizer=optimizer, data_loader=DataLoader(dataset, batch_size=8),
            target_epsilon=self.settings.target_epsilon, target_delta=1e-5,
            epochs=self.settings.privacy_epochs, max_grad_norm=1.0,
        )

    def fit(self):
        for epoch in range(self.settings.max_epochs):
            if epoch == self.settings.privacy_epochs:
                break
            self.model.train()
            for x, y in self.loader:
                self.optimizer.zero_grad()
                self.criterion(self.model(x), y).backward()
                self.optimizer.step()


def run():
    generator = torch.Generator().manual_seed(0)
    dataset = TensorDataset(torch.randn(32, 6, generator=generator), torch.randint(0, 2, (32,), generator=generator))
    Trainer(nn.Sequential(nn.Linear(6, 12), nn.Tanh(), nn.Linear(12, 2)), dataset).fit()


CASE = {
    "script": "run",
    "runtime": "ok",
}

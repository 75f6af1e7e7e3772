"""A Trainer whose step clears through a helper method, `self._reset_gradients()`, which calls both the
model's and the optimizer's `zero_grad()`: it trains. (dp-lint reads the helper, not only the loop.)"""

import torch
import torch.nn as nn
from opacus import PrivacyEngine
from torch.utils.data import DataLoader, TensorDataset


class Trainer:
    def __init__(self, model, dataset, lr=0.05):
        self.criterion = nn.CrossEntropyLoss()
        optimizer = torch.optim.SGD(model.parameters(), lr=lr)
        self.privacy_engine = PrivacyEngine()
        self.model, self.optimizer, self.loader = self.privacy_engine.make_private(
            module=model, optimizer=optimizer, data_loader=DataLoader(dataset, batch_size=8),
            noise_multiplier=1.1, max_grad_norm=1.0,
        )

    def _reset_gradients(self):
        self.model.zero_grad(set_to_none=True)
        self.optimizer.zero_grad(set_to_none=True)

    def fit(self):
        self.model.train()
        for x, y in self.loader:
            loss = self.criterion(self.model(x), y)
            loss.backward()
            self.optimizer.step()
            self._reset_gradients()


def run():
    generator = torch.Generator().manual_seed(0)
    dataset = TensorDataset(torch.randn(32, 6, generator=generator), torch.randint(0, 2, (32,), generator=generator))
    Trainer(nn.Sequential(nn.Linear(6, 12), nn.Tanh(), nn.Linear(12, 2)), dataset).fit()


CASE = {
    "script": "run",
    "runtime": "ok",
}

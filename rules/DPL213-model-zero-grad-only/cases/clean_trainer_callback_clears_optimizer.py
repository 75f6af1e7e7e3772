"""A Trainer with callbacks (the Lightning/Hugging Face shape): `fit()` calls `self.model.zero_grad()` itself,
and the step-end callback it hands the trainer to (`callback.on_step_end(self)`) clears
`trainer.optimizer.zero_grad()`. The DP optimizer is cleared every step: it trains. (Code given the trainer
may clear its optimizer, so dp-lint does not report the loop.)"""

import torch
import torch.nn as nn
from opacus import PrivacyEngine
from torch.utils.data import DataLoader, TensorDataset


class ClearOptimizer:
    def on_step_end(self, trainer):
        trainer.optimizer.zero_grad(set_to_none=True)


class Trainer:
    def __init__(self, model, dataset, callbacks=()):
        self.callbacks = list(callbacks)
        self.criterion = nn.CrossEntropyLoss()
        optimizer = torch.optim.SGD(model.parameters(), lr=0.05)
        self.model, self.optimizer, self.loader = PrivacyEngine().make_private(
            module=model, optimizer=optimizer, data_loader=DataLoader(dataset, batch_size=8),
            noise_multiplier=1.1, max_grad_norm=1.0,
        )

    def fit(self):
        self.model.train()
        for x, y in self.loader:
            self.model.zero_grad()
            self.criterion(self.model(x), y).backward()
            self.optimizer.step()
            for callback in self.callbacks:
                callback.on_step_end(self)


def run():
    generator = torch.Generator().manual_seed(0)
    dataset = TensorDataset(torch.randn(32, 6, generator=generator), torch.randint(0, 2, (32,), generator=generator))
    Trainer(nn.Sequential(nn.Linear(6, 12), nn.Tanh(), nn.Linear(12, 2)), dataset, [ClearOptimizer()]).fit()


CASE = {
    "script": "run",
    "runtime": "ok",
}

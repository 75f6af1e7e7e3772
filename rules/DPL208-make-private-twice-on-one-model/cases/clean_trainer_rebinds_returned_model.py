"""The Trainer re-creates the DP optimizer at every epoch and rebinds self.model to the module
make_private returns: from the second epoch on it wraps that GradSampleModule, which Opacus accepts."""

import torch
import torch.nn as nn
from opacus import PrivacyEngine
from torch.utils.data import DataLoader, TensorDataset


class Classifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Linear(10, 20)
        self.head = nn.Linear(20, 4)

    def forward(self, x):
        return self.head(torch.tanh(self.body(x)))


class Trainer:
    def __init__(self, model, dataset):
        self.model = model
        self.dataset = dataset
        self.privacy_engine = PrivacyEngine()

    def fit(self, epochs):
        for epoch in range(epochs):
            optimizer = torch.optim.Adam(self.model.parameters(), lr=1e-3)
            self.model, optimizer, loader = self.privacy_engine.make_private(
                module=self.model, optimizer=optimizer, data_loader=DataLoader(self.dataset, batch_size=12),
                noise_multiplier=0.9, max_grad_norm=1.0,
            )
            for x, y in loader:
                optimizer.zero_grad()
                nn.functional.cross_entropy(self.model(x), y).backward()
                optimizer.step()


def run():
    generator = torch.Generator().manual_seed(6)
    dataset = TensorDataset(torch.randn(36, 10, generator=generator), torch.randint(0, 4, (36,), generator=generator))
    Trainer(Classifier(), dataset).fit(epochs=2)


CASE = {
    "script": "run",
    "runtime": "ok",
}

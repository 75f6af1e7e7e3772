"""A Trainer class that makes its model private in `__init__` and, in `fit()`, clears gradients after each
step with `self.model.zero_grad(set_to_none=True)`: the DP optimizer's own `zero_grad()` never runs, and its
second step raises."""

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


class Trainer:
    def __init__(self, model, dataset, epochs=1, lr=0.05):
        self.epochs = epochs
        self.criterion = nn.CrossEntropyLoss()
        optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
        self.privacy_engine = PrivacyEngine()
        self.model, self.optimizer, self.loader = self.privacy_engine.make_private(
            module=model, optimizer=optimizer, data_loader=DataLoader(dataset, batch_size=8),
            noise_multiplier=1.1, max_grad_norm=1.0,
        )

    def fit(self):
        for epoch in range(self.epochs):
            self.model.train()
            for images, labels in self.loader:
                loss = self.criterion(self.model(images), labels)
                loss.backward()
                self.optimizer.step()
                self.model.zero_grad(set_to_none=True)  # expect: DPL213


def run():
    generator = torch.Generator().manual_seed(0)
    dataset = TensorDataset(torch.randn(32, 1, 8, 8, generator=generator),
                            torch.randint(0, 10, (32,), generator=generator))
    Trainer(ConvNet(), dataset).fit()


CASE = {
    "script": "run",
    "runtime": "crash",
    "error": "Gradients haven't been cleared since the last optimizer step",
}

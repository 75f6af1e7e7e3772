"""A Trainer holding the private model, optimizer and ghost criterion as attributes; `fit()` steps every
`self.accumulate` (2) batches. Ghost mode accumulates silently and the reported ε is too small."""

import torch
import torch.nn as nn
from opacus import PrivacyEngine
from torch.utils.data import DataLoader, TensorDataset


class MLP(nn.Module):
    def __init__(self, in_features=8, hidden=16, classes=3):
        super().__init__()
        self.fc1 = nn.Linear(in_features, hidden)
        self.fc2 = nn.Linear(hidden, classes)

    def forward(self, x):
        return self.fc2(torch.relu(self.fc1(x)))


def dataset():
    generator = torch.Generator().manual_seed(0)
    return TensorDataset(torch.randn(64, 8, generator=generator), torch.randint(0, 3, (64,), generator=generator))


class Trainer:
    def __init__(self, model, data):
        self.accumulate = 2
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
        self.privacy_engine = PrivacyEngine()
        self.model, self.optimizer, self.criterion, self.loader = self.privacy_engine.make_private(
            module=model, optimizer=optimizer, data_loader=DataLoader(data, batch_size=8),
            criterion=nn.CrossEntropyLoss(), noise_multiplier=1.1, max_grad_norm=1.0, grad_sample_mode="ghost",
        )

    def fit(self):
        self.model.train()
        for step, (x, y) in enumerate(self.loader):
            self.criterion(self.model(x), y).backward()  # expect: DPL217
            if (step + 1) % self.accumulate == 0:
                self.optimizer.step()
                self.optimizer.zero_grad()


def run():
    Trainer(MLP(), dataset()).fit()


CASE = {
    "script": "run",
    "runtime": "silent",
    "violation": "accounting",
    "opacus": ">=1.5",  # ghost clipping (make_private's criterion=) exists since 1.5
}

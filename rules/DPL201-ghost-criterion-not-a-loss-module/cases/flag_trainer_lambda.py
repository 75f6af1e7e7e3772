"""A Trainer class whose fit() makes the model private in ghost mode with a lambda as the criterion
(label smoothing written inline)."""

import torch
import torch.nn as nn
import torch.nn.functional as F
from opacus import PrivacyEngine
from torch.utils.data import DataLoader, TensorDataset


class Classifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 3))

    def forward(self, x):
        return self.body(x)


class Trainer:
    def __init__(self, epochs=1, lr=0.1):
        self.epochs = epochs
        self.lr = lr
        self.privacy_engine = PrivacyEngine()

    def fit(self, model, loader):
        optimizer = torch.optim.SGD(model.parameters(), lr=self.lr)
        model, optimizer, criterion, loader = self.privacy_engine.make_private(
            module=model,
            optimizer=optimizer,
            data_loader=loader,
            criterion=lambda logits, y: F.cross_entropy(logits, y, label_smoothing=0.1),  # expect: DPL201
            noise_multiplier=1.0,
            max_grad_norm=1.0,
            grad_sample_mode="ghost",
        )
        for _ in range(self.epochs):
            for x, y in loader:
                optimizer.zero_grad()
                criterion(model(x), y).backward()
                optimizer.step()
        return model


def train():
    generator = torch.Generator().manual_seed(1)
    x = torch.randn(64, 8, generator=generator)
    x[::8] *= 100
    y = torch.randint(0, 3, (64,), generator=generator)
    Trainer().fit(Classifier(), DataLoader(TensorDataset(x, y), batch_size=16))


CASE = {
    "opacus": ">=1.5.3",  # ghost clipping's criterion API
    # Measured on 1.5.4: DPLossFastGradientClipping reads `criterion.reduction`, which a function lacks.
    "versions": {"<1.6": {"runtime": "crash", "error": "has no attribute 'reduction'"}},
    "script": "train",
    "runtime": "silent",
    "violation": "clipping",
}

"""The Trainer keeps its GradScaler for non-private runs and builds it disabled when training with
differential privacy: `scale()` returns the loss unchanged and `step()` just steps."""

import torch
import torch.nn as nn
from opacus import PrivacyEngine
from torch.utils.data import DataLoader, TensorDataset


class Classifier(nn.Module):
    def __init__(self, features=10, classes=4):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(features, 32), nn.Tanh())
        self.head = nn.Linear(32, classes)

    def forward(self, x):
        return self.head(self.body(x))


class Trainer:
    def __init__(self, model, dataset, lr=0.05, device="cpu"):
        self.model = model.to(device)
        self.device = device
        self.loader = DataLoader(dataset, batch_size=16)
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=lr)
        self.criterion = nn.CrossEntropyLoss()
        # Loss scaling and DP-SGD do not mix: the scaler stays off under make_private.
        self.scaler = torch.GradScaler(device, enabled=False)
        self.privacy_engine = PrivacyEngine()

    def train_step(self, x, y):
        self.optimizer.zero_grad()
        loss = self.criterion(self.model(x), y)
        self.scaler.scale(loss).backward()
        self.scaler.step(self.optimizer)
        self.scaler.update()
        return loss.item()

    def fit(self, epochs=1):
        self.model, self.optimizer, self.loader = self.privacy_engine.make_private(
            module=self.model, optimizer=self.optimizer, data_loader=self.loader,
            noise_multiplier=0.8, max_grad_norm=1.0,
        )
        for _ in range(epochs):
            for x, y in self.loader:
                self.train_step(x.to(self.device), y.to(self.device))
        return self.privacy_engine.get_epsilon(delta=1e-5)


def run():
    generator = torch.Generator().manual_seed(1)
    dataset = TensorDataset(torch.randn(48, 10, generator=generator), torch.randint(0, 4, (48,), generator=generator))
    Trainer(Classifier(), dataset).fit()


CASE = {
    "script": "run",
    "runtime": "ok",
}

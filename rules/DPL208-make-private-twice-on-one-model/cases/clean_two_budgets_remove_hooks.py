"""Two privacy budgets on one model, with the hooks of the first run taken off (`remove_hooks()`)
before the model is made private again."""

import torch
import torch.nn as nn
from opacus import PrivacyEngine
from torch.utils.data import DataLoader, TensorDataset


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(8, 16)
        self.fc2 = nn.Linear(16, 3)

    def forward(self, x):
        return self.fc2(torch.relu(self.fc1(x)))


def train(model, optimizer, loader):
    for x, y in loader:
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()


def main():
    generator = torch.Generator().manual_seed(0)
    dataset = TensorDataset(torch.randn(64, 8, generator=generator), torch.randint(0, 3, (64,), generator=generator))
    model = Net()
    engine = PrivacyEngine()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    dp_model, dp_optimizer, loader = engine.make_private(
        module=model, optimizer=optimizer, data_loader=DataLoader(dataset, batch_size=16),
        noise_multiplier=1.0, max_grad_norm=1.0,
    )
    train(dp_model, dp_optimizer, loader)
    print(f"fixed noise: epsilon {engine.get_epsilon(1e-5):.2f}")
    dp_model.remove_hooks()

    target_engine = PrivacyEngine()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    dp_model, dp_optimizer, loader = target_engine.make_private_with_epsilon(
        module=model, optimizer=optimizer, data_loader=DataLoader(dataset, batch_size=16),
        target_epsilon=3.0, target_delta=1e-5, epochs=1, max_grad_norm=1.0,
    )
    train(dp_model, dp_optimizer, loader)


CASE = {
    "script": "main",
    "runtime": "ok",
}

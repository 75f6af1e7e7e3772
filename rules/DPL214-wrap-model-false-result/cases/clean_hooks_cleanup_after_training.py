"""`hooks, optimizer, loader = make_private(..., wrap_model=False)`: the first result is kept only
to remove the hooks after training (`hooks.cleanup()`); the helper trains the module passed in."""

import torch
import torch.nn as nn
import torch.nn.functional as F
from opacus import PrivacyEngine
from torch.utils.data import DataLoader, TensorDataset


class SampleConvNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 4, 3, 1)
        self.fc1 = nn.Linear(4 * 3 * 3, 10)

    def forward(self, x):
        x = F.max_pool2d(torch.tanh(self.conv1(x)), 2)
        return self.fc1(x.flatten(1))


def train(model, device, train_loader, optimizer):
    model.train()
    for data, target in train_loader:
        data, target = data.to(device), target.to(device)
        optimizer.zero_grad()
        F.cross_entropy(model(data), target).backward()
        optimizer.step()


def main():
    device = torch.device("cpu")
    generator = torch.Generator().manual_seed(1)
    images, labels = torch.randn(32, 1, 8, 8, generator=generator), torch.randint(0, 10, (32,), generator=generator)
    model = SampleConvNet().to(device)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    privacy_engine = PrivacyEngine()
    hooks, optimizer, train_loader = privacy_engine.make_private(
        module=model,
        optimizer=optimizer,
        data_loader=DataLoader(TensorDataset(images, labels), batch_size=8),
        noise_multiplier=1.1,
        max_grad_norm=1.0,
        wrap_model=False,
    )
    for epoch in range(1, 3):
        train(model, device, train_loader, optimizer)
        print(f"epoch {epoch}, epsilon {privacy_engine.get_epsilon(1e-5):.2f}")
    hooks.cleanup()
    torch.save(model.state_dict(), "/dev/null")


CASE = {
    "script": "main",
    "runtime": "ok",
    "opacus": ">=1.6",  # 1.5.4 returns a GradSampleModule (no `cleanup`); 1.4.1 rejects the keyword
}

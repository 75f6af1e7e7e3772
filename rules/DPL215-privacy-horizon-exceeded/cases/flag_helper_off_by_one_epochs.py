"""Opacus' MNIST example shape (`train(model, device, train_loader, optimizer, epoch)` per epoch), with an
off-by-one: `range(EPOCHS + 1)` runs one epoch more than `make_private_with_epsilon(epochs=EPOCHS)` planned."""

import torch
import torch.nn as nn
import torch.nn.functional as F
from opacus import PrivacyEngine
from torch.utils.data import DataLoader, TensorDataset

EPOCHS = 2
TARGET_EPSILON = 2.0
DELTA = 1e-5


class SampleConvNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 4, 3, 1)
        self.fc1 = nn.Linear(4 * 3 * 3, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        return self.fc1(x.flatten(1))


def train(model, device, train_loader, optimizer, epoch):
    model.train()
    criterion = nn.CrossEntropyLoss()
    losses = []
    for data, target in train_loader:
        data, target = data.to(device), target.to(device)
        optimizer.zero_grad()
        loss = criterion(model(data), target)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return sum(losses) / max(len(losses), 1)


def main():
    device = torch.device("cpu")
    generator = torch.Generator().manual_seed(0)
    dataset = TensorDataset(torch.randn(32, 1, 8, 8, generator=generator),
                            torch.randint(0, 10, (32,), generator=generator))
    model = SampleConvNet().to(device)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0)
    privacy_engine = PrivacyEngine()
    model, optimizer, train_loader = privacy_engine.make_private_with_epsilon(
        module=model, optimizer=optimizer, data_loader=DataLoader(dataset, batch_size=8),
        target_epsilon=TARGET_EPSILON, target_delta=DELTA, epochs=EPOCHS, max_grad_norm=1.0,
    )
    for epoch in range(EPOCHS + 1):  # expect: DPL215
        train(model, device, train_loader, optimizer, epoch)


CASE = {
    "script": "main",
    "runtime": "silent",
    "violation": "budget",
}

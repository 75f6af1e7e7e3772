"""After the training loop, the script reports the accuracy of the last training batch with one
more forward of the private model, without `torch.no_grad()`: its activations are left behind, but
no `optimizer.step()` follows, so nothing fails (measured: the script trains and ends normally)."""

import torch
import torch.nn as nn
from opacus import PrivacyEngine
from torch.utils.data import DataLoader, TensorDataset


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(5, 10)
        self.fc2 = nn.Linear(10, 3)

    def forward(self, x):
        return self.fc2(torch.relu(self.fc1(x)))


def main(epochs=2):
    generator = torch.Generator().manual_seed(6)
    data = TensorDataset(torch.randn(36, 5, generator=generator), torch.randint(0, 3, (36,), generator=generator))
    model = MLP()
    optimizer = torch.optim.RMSprop(model.parameters(), lr=0.01)
    criterion = nn.CrossEntropyLoss()
    model, optimizer, loader = PrivacyEngine().make_private(
        module=model, optimizer=optimizer, data_loader=DataLoader(data, batch_size=9),
        noise_multiplier=1.0, max_grad_norm=1.0,
    )
    for _ in range(epochs):
        for x, y in loader:
            optimizer.zero_grad()
            criterion(model(x), y).backward()
            optimizer.step()
    final_acc = (model(x).argmax(1) == y).float().mean().item()
    print(f"final batch accuracy {final_acc:.3f}")


CASE = {
    "script": "main",
    "runtime": "ok",
}

"""main() measures a baseline accuracy with an evaluate() helper, which switches the model to eval
mode, right after make_private; the training loop never calls model.train()."""

import torch
import torch.nn as nn
from opacus import PrivacyEngine
from torch.utils.data import DataLoader, TensorDataset


class Regressor(nn.Module):
    def __init__(self):
        super().__init__()
        self.hidden = nn.Linear(6, 12)
        self.out = nn.Linear(12, 1)

    def forward(self, x):
        return self.out(torch.relu(self.hidden(x)))


def evaluate(net, loader):
    net.eval()
    with torch.no_grad():
        return sum(nn.functional.mse_loss(net(x), y, reduction="sum").item() for x, y in loader)


def main():
    generator = torch.Generator().manual_seed(2)
    train_set = TensorDataset(torch.randn(40, 6, generator=generator), torch.randn(40, 1, generator=generator))
    test_loader = DataLoader(TensorDataset(torch.randn(20, 6, generator=generator), torch.randn(20, 1, generator=generator)))
    model = Regressor()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    engine = PrivacyEngine()
    model, optimizer, loader = engine.make_private(
        module=model, optimizer=optimizer, data_loader=DataLoader(train_set, batch_size=10),
        noise_multiplier=1.1, max_grad_norm=1.0,
    )
    print(f"baseline test loss {evaluate(model, test_loader):.3f}")  # expect: DPL209
    model.train()
    for x, y in loader:
        optimizer.zero_grad()
        nn.functional.mse_loss(model(x), y).backward()
        optimizer.step()


CASE = {
    "script": "main",
    "runtime": "crash",
    "error": "No activations detected",
}

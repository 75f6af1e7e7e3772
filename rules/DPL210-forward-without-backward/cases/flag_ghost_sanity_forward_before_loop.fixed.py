"""Ghost clipping (`grad_sample_mode="ghost"`, four return values) with a "does it run" forward of
the private model before the training loop: Opacus' ghost hooks keep its activations, and the
loop's first forward raises "Parameter tying is not supported with Ghost Clipping"."""

import torch
import torch.nn as nn
from opacus import PrivacyEngine
from torch.utils.data import DataLoader, TensorDataset


class Regressor(nn.Module):
    def __init__(self, features=6):
        super().__init__()
        self.hidden = nn.Linear(features, 12)
        self.head = nn.Linear(12, 2)

    def forward(self, x):
        return self.head(torch.relu(self.hidden(x)))


def main(epochs=1):
    generator = torch.Generator().manual_seed(5)
    data = TensorDataset(torch.randn(32, 6, generator=generator), torch.randint(0, 2, (32,), generator=generator))
    model = Regressor()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05)
    engine = PrivacyEngine()
    model, optimizer, criterion, loader = engine.make_private(
        module=model, optimizer=optimizer, data_loader=DataLoader(data, batch_size=8),
        criterion=nn.CrossEntropyLoss(), noise_multiplier=1.0, max_grad_norm=1.0, grad_sample_mode="ghost",
    )
    warmup, _ = next(iter(loader))
    with torch.no_grad():
        out = model(warmup)  # expect: DPL210
    print("forward ok:", tuple(out.shape))
    for _ in range(epochs):
        for x, y in loader:
            optimizer.zero_grad()
            loss = criterion(model(x), y)
            loss.backward()
            optimizer.step()


CASE = {
    "opacus": ">=1.5",  # ghost clipping (make_private's criterion=) exists since 1.5
    "script": "main",
    "runtime": "crash",
    "error": "Parameter tying is not supported with Ghost Clipping",
}

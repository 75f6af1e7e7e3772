"""The intended use of `wrap_model=False`: the hooks go onto the module passed in, so the script
discards the first result and keeps training (and checkpointing) its own `model`."""

import torch
import torch.nn as nn
from opacus import PrivacyEngine
from torch.utils.data import DataLoader, TensorDataset


class Classifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.hidden = nn.Linear(8, 16)
        self.out = nn.Linear(16, 3)

    def forward(self, x):
        return self.out(torch.relu(self.hidden(x)))


def main():
    generator = torch.Generator().manual_seed(0)
    data = TensorDataset(torch.randn(48, 8, generator=generator), torch.randint(0, 3, (48,), generator=generator))
    model = Classifier()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05)
    engine = PrivacyEngine()
    _, optimizer, loader = engine.make_private(
        module=model, optimizer=optimizer, data_loader=DataLoader(data, batch_size=12),
        noise_multiplier=1.0, max_grad_norm=1.0, wrap_model=False,
    )
    criterion = nn.CrossEntropyLoss()
    model.train()
    for _ in range(2):
        for x, y in loader:
            optimizer.zero_grad()
            loss = criterion(model(x), y)
            loss.backward()
            optimizer.step()
    return model.state_dict()


CASE = {
    "script": "main",
    "runtime": "ok",
    "opacus": ">=1.5",  # 1.4.1 rejects the keyword (make-private-rejects-wrap-model)
}

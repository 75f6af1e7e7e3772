"""An encoder and a head built apart and handed to a wrapper (`Classifier(encoder, head)` stores them as
`self.encoder` and `self.head`); the optimizer is built on the `head` variable only, and nothing freezes the
encoder. `make_private` hooks the encoder's layers too; their per-sample gradients are never cleared, and the
second batch raises under Poisson sampling."""

import torch
import torch.nn as nn
from opacus import PrivacyEngine
from torch.utils.data import DataLoader, TensorDataset


class Encoder(nn.Module):
    def __init__(self, in_features=12, width=16):
        super().__init__()
        self.fc = nn.Linear(in_features, width)
        self.norm = nn.LayerNorm(width)

    def forward(self, x):
        return torch.relu(self.norm(self.fc(x)))


class Classifier(nn.Module):
    def __init__(self, encoder, head):
        super().__init__()
        self.encoder = encoder
        self.head = head

    def forward(self, x):
        return self.head(self.encoder(x))


def main():
    encoder = Encoder()
    head = nn.Linear(16, 4)
    model = Classifier(encoder, head)
    optimizer = torch.optim.Adam(head.parameters(), lr=1e-3)  # expect: DPL220
    generator = torch.Generator().manual_seed(0)
    data = TensorDataset(torch.randn(64, 12, generator=generator), torch.randint(0, 4, (64,), generator=generator))
    privacy_engine = PrivacyEngine()
    model, optimizer, loader = privacy_engine.make_private(
        module=model, optimizer=optimizer, data_loader=DataLoader(data, batch_size=16),
        noise_multiplier=1.0, max_grad_norm=1.0,
    )
    for x, y in loader:
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()


CASE = {
    "script": "main",
    "runtime": "crash",
    "error": "Poisson sampling is not compatible with grad accumulation",
}

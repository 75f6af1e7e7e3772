"""Two models: the classifier is private (its DP optimizer clears with `optimizer.zero_grad()`), an auxiliary
decoder trained without DP on public data clears with `decoder.zero_grad()`. Only the private model's
`zero_grad()` matters: it trains."""

import torch
import torch.nn as nn
import torch.nn.functional as F
from opacus import PrivacyEngine
from torch.utils.data import DataLoader, TensorDataset


def main():
    generator = torch.Generator().manual_seed(0)
    private_set = TensorDataset(torch.randn(48, 10, generator=generator),
                                torch.randint(0, 4, (48,), generator=generator))
    public_x = torch.randn(48, 10, generator=generator)
    classifier = nn.Sequential(nn.Linear(10, 16), nn.ReLU(), nn.Linear(16, 4))
    decoder = nn.Sequential(nn.Linear(10, 4), nn.ReLU(), nn.Linear(4, 10))
    optimizer = torch.optim.Adam(classifier.parameters(), lr=1e-3)
    decoder_optimizer = torch.optim.Adam(decoder.parameters(), lr=1e-3)
    engine = PrivacyEngine()
    classifier, optimizer, loader = engine.make_private(
        module=classifier, optimizer=optimizer, data_loader=DataLoader(private_set, batch_size=12),
        noise_multiplier=1.0, max_grad_norm=1.0,
    )
    for step, (x, y) in enumerate(loader):
        optimizer.zero_grad()
        F.cross_entropy(classifier(x), y).backward()
        optimizer.step()
        decoder.zero_grad()
        batch = public_x[step * 12:(step + 1) * 12]
        F.mse_loss(decoder(batch), batch).backward()
        decoder_optimizer.step()


CASE = {
    "script": "main",
    "runtime": "ok",
}

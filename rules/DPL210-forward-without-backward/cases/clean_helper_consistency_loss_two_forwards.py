"""A `train_one_epoch` helper that runs the private model twice per batch (two views of each sample
that the dataset yields, consistency regularisation) and sums both losses before one backward: the
backward consumes both forwards (Opacus' counters balance), so the script trains."""

import torch
import torch.nn as nn
import torch.nn.functional as F
from opacus import PrivacyEngine
from torch.utils.data import DataLoader, TensorDataset


class Classifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(10, 16), nn.ReLU(), nn.Linear(16, 4))

    def forward(self, x):
        return self.body(x)


def train_one_epoch(net, loader, opt, weight=0.5):
    net.train()
    for x, x_view, y in loader:
        opt.zero_grad()
        logits = net(x)
        logits_noisy = net(x_view)
        consistency = F.mse_loss(logits_noisy, logits.detach())
        loss = F.cross_entropy(logits, y) + weight * consistency
        loss.backward()
        opt.step()


def main(epochs=2):
    generator = torch.Generator().manual_seed(4)
    x = torch.randn(48, 10, generator=generator)
    data = TensorDataset(x, x + 0.1 * torch.randn(48, 10, generator=generator),
                         torch.randint(0, 4, (48,), generator=generator))
    model = Classifier()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    engine = PrivacyEngine()
    model, optimizer, loader = engine.make_private(
        module=model, optimizer=optimizer, data_loader=DataLoader(data, batch_size=12),
        noise_multiplier=1.0, max_grad_norm=1.0,
    )
    for _ in range(epochs):
        train_one_epoch(model, loader, optimizer)


CASE = {
    "script": "main",
    "runtime": "ok",
}

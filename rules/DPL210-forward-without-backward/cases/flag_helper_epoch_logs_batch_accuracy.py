"""`main()` hands the private model and optimizer to a `train_one_epoch` helper, which logs each
batch's accuracy through an `accuracy()` function called on a second forward of the model, after
the backward: that forward is never backward-ed, so the step raises."""

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


def accuracy(logits, labels):
    return (logits.argmax(dim=1) == labels).float().mean()


def train_one_epoch(net, loader, opt, epoch):
    net.train()
    total = 0.0
    for step, (x, y) in enumerate(loader):
        opt.zero_grad()
        loss = F.cross_entropy(net(x), y)
        loss.backward()
        batch_acc = accuracy(net(x), y)  # expect: DPL210
        opt.step()
        total += batch_acc.item()
    print(f"epoch {epoch}: mean batch accuracy {total / max(step + 1, 1):.3f}")


def main(epochs=2):
    generator = torch.Generator().manual_seed(4)
    data = TensorDataset(torch.randn(48, 10, generator=generator), torch.randint(0, 4, (48,), generator=generator))
    model = Classifier()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    engine = PrivacyEngine()
    model, optimizer, loader = engine.make_private(
        module=model, optimizer=optimizer, data_loader=DataLoader(data, batch_size=12),
        noise_multiplier=1.0, max_grad_norm=1.0,
    )
    for epoch in range(epochs):
        train_one_epoch(model, loader, optimizer, epoch)


CASE = {
    "script": "main",
    "runtime": "crash",
    "error": "Per sample gradient is not initialized",
}

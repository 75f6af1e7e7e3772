"""Consistency training with ghost clipping: each batch comes in two augmented views, and the loss sums the
criterion over both, each view through its own forward pass of the private model. Ghost clipping counts the
forward passes each `nn.Linear` parameter serves until the backward: the second view's forward raises
`NotImplementedError: Parameter tying is not supported with Ghost Clipping`. (Hooks mode trains the same loop.)"""

import argparse

import torch
import torch.nn as nn
from opacus import PrivacyEngine
from torch.utils.data import DataLoader, TensorDataset


class Classifier(nn.Module):
    def __init__(self, in_features=12, width=16, num_classes=4):
        super().__init__()
        self.fc1 = nn.Linear(in_features, width)
        self.norm = nn.LayerNorm(width)
        self.fc2 = nn.Linear(width, num_classes)

    def forward(self, x):
        return self.fc2(torch.relu(self.norm(self.fc1(x))))


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--lr", type=float, default=0.1)
    parser.add_argument("--grad-sample-mode", default="ghost")
    args = parser.parse_args(argv)
    generator = torch.Generator().manual_seed(0)
    data = TensorDataset(torch.randn(64, 12, generator=generator), torch.randn(64, 12, generator=generator),
                         torch.randint(0, 4, (64,), generator=generator))
    model = Classifier()
    optimizer = torch.optim.SGD(model.parameters(), lr=args.lr)
    model, optimizer, criterion, loader = PrivacyEngine().make_private(
        module=model, optimizer=optimizer, data_loader=DataLoader(data, batch_size=16),
        criterion=nn.CrossEntropyLoss(), noise_multiplier=1.0, max_grad_norm=1.0,
        grad_sample_mode=args.grad_sample_mode,
    )
    for view_a, view_b, y in loader:
        optimizer.zero_grad()
        logits_a = model(view_a)
        logits_b = model(view_b)  # expect: DPL219
        loss = criterion(logits_a, y) + criterion(logits_b, y)
        loss.backward()
        optimizer.step()


CASE = {
    "opacus": ">=1.5.3",  # ghost clipping's criterion API
    "script": "main",
    "args": [[]],
    "runtime": "crash",
    "error": "Parameter tying is not supported with Ghost Clipping",
}

"""Contrastive fine-tuning of a projection head over a frozen encoder that embeds two augmented views, in ghost
mode. The encoder's `nn.Linear` layers run twice per forward, but their parameters do not require grad: ghost
clipping counts only trainable parameters' calls, and training runs."""

import torch
import torch.nn as nn
from opacus import PrivacyEngine
from torch.utils.data import DataLoader, TensorDataset


class Encoder(nn.Module):
    def __init__(self, in_features=12, dim=16):
        super().__init__()
        self.fc1 = nn.Linear(in_features, dim)
        self.fc2 = nn.Linear(dim, dim)

    def forward(self, x):
        return self.fc2(torch.relu(self.fc1(x)))


class TwoViewClassifier(nn.Module):
    def __init__(self, encoder, dim=16, classes=3):
        super().__init__()
        self.encoder = encoder
        self.head = nn.Linear(2 * dim, classes)

    def forward(self, view_a, view_b):
        return self.head(torch.cat([self.encoder(view_a), self.encoder(view_b)], dim=1))


def main():
    generator = torch.Generator().manual_seed(0)
    data = TensorDataset(torch.randn(32, 12, generator=generator), torch.randn(32, 12, generator=generator),
                         torch.randint(0, 3, (32,), generator=generator))
    encoder = Encoder()
    encoder.requires_grad_(False)  # pretrained, kept fixed
    model = TwoViewClassifier(encoder)
    optimizer = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.05)
    engine = PrivacyEngine()
    model, optimizer, criterion, loader = engine.make_private(
        module=model, optimizer=optimizer, data_loader=DataLoader(data, batch_size=8),
        criterion=nn.CrossEntropyLoss(), noise_multiplier=1.0, max_grad_norm=1.0, grad_sample_mode="ghost",
    )
    for view_a, view_b, label in loader:
        optimizer.zero_grad()
        criterion(model(view_a, view_b), label).backward()
        optimizer.step()


CASE = {
    "opacus": ">=1.5.3",  # ghost clipping's criterion API
    "script": "main",
    "runtime": "ok",
}

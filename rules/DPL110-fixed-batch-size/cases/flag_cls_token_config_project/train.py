"""Train the tiny ViT with DP-SGD."""

import torch
import torch.nn as nn
from config import BATCH_SIZE, DIM, PATCHES
from model import TinyViT
from opacus import PrivacyEngine
from torch.utils.data import DataLoader, TensorDataset


def main():
    generator = torch.Generator().manual_seed(0)
    dataset = TensorDataset(torch.randn(64, PATCHES, DIM, generator=generator),
                            torch.randint(0, 3, (64,), generator=generator))
    loader = DataLoader(dataset, batch_size=BATCH_SIZE, shuffle=True)
    model = TinyViT(DIM, 3)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    model, optimizer, loader = PrivacyEngine().make_private(
        module=model, optimizer=optimizer, data_loader=loader, noise_multiplier=1.0, max_grad_norm=1.0)
    criterion = nn.CrossEntropyLoss()
    for tokens, labels in loader:
        optimizer.zero_grad()
        criterion(model(tokens), labels).backward()
        optimizer.step()


CASE = {"script": "main", "runtime": "crash", "error": "Sizes of tensors must match except in dimension"}

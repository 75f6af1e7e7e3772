# Part of the multi-file case (see encoder/blocks.py): the DP training script.
import torch
import torch.nn.functional as F
from opacus import PrivacyEngine
from torch.utils.data import DataLoader, TensorDataset

from config import MODEL
from encoder.factory import build_encoder


def main():
    data = TensorDataset(torch.randint(0, 50, (32, 7)), torch.randint(0, 4, (32,)))
    loader = DataLoader(data, batch_size=8)
    model = build_encoder(MODEL)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    engine = PrivacyEngine()
    model, optimizer, loader = engine.make_private(
        module=model, optimizer=optimizer, data_loader=loader, noise_multiplier=1.0, max_grad_norm=1.0
    )
    for tokens, labels in loader:
        optimizer.zero_grad()
        F.cross_entropy(model(tokens), labels).backward()
        optimizer.step()
    return model

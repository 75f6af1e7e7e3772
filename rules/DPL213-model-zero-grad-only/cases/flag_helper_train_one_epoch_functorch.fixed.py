"""The loop lives in a module-level helper `train_one_epoch(model, optimizer, loader, criterion)` called after
`make_private_with_epsilon` in functorch mode; the helper clears with `model.zero_grad()` only."""

import torch
import torch.nn as nn
from opacus import PrivacyEngine
from torch.utils.data import DataLoader, TensorDataset

EPOCHS = 2


def build_model():
    return nn.Sequential(nn.Embedding(30, 8), nn.Flatten(), nn.Linear(8 * 5, 16), nn.GELU(), nn.Linear(16, 2))


def train_one_epoch(model, optimizer, loader, criterion):
    model.train()
    total = 0.0
    for tokens, labels in loader:
        model.zero_grad()  # expect: DPL213
        optimizer.zero_grad()
        loss = criterion(model(tokens), labels)
        loss.backward()
        optimizer.step()
        total += loss.item()
    return total


def main():
    generator = torch.Generator().manual_seed(0)
    dataset = TensorDataset(torch.randint(0, 30, (48, 5), generator=generator),
                            torch.randint(0, 2, (48,), generator=generator))
    model = build_model()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    privacy_engine = PrivacyEngine()
    model, optimizer, loader = privacy_engine.make_private_with_epsilon(
        module=model, optimizer=optimizer, data_loader=DataLoader(dataset, batch_size=12),
        target_epsilon=8.0, target_delta=1e-5, epochs=EPOCHS, max_grad_norm=1.0,
        grad_sample_mode="functorch",
    )
    criterion = nn.CrossEntropyLoss()
    for epoch in range(EPOCHS):
        train_one_epoch(model, optimizer, loader, criterion)


CASE = {
    "script": "main",
    "runtime": "crash",
    "error": "Gradients haven't been cleared since the last optimizer step",
}

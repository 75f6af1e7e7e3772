"""The fixed twin of the fine-tuning project: `replace_head` runs before the optimizer is built, so the optimizer
holds the new head. make_private accepts it and it trains (measured, opacus 1.4.1-1.6.0)."""

import torch
import torch.nn as nn
from models import ResNetTiny, replace_head
from opacus import PrivacyEngine
from torch.utils.data import DataLoader, TensorDataset


def main(num_classes=5, epochs=1):
    generator = torch.Generator().manual_seed(0)
    dataset = TensorDataset(torch.randn(32, 3, 8, 8, generator=generator),
                            torch.randint(0, num_classes, (32,), generator=generator))
    model = ResNetTiny()
    replace_head(model, num_classes)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)
    privacy_engine = PrivacyEngine()
    model, optimizer, train_loader = privacy_engine.make_private(
        module=model, optimizer=optimizer, data_loader=DataLoader(dataset, batch_size=8),
        noise_multiplier=1.0, max_grad_norm=1.0,
    )
    criterion = nn.CrossEntropyLoss()
    for _ in range(epochs):
        for images, targets in train_loader:
            optimizer.zero_grad()
            criterion(model(images), targets).backward()
            optimizer.step()


CASE = {
    "script": "main",
    "runtime": "ok",
}

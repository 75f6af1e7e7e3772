"""A helper that checks the model with the 0.x `DPModelInspector` before training (the 1.x API is
already used for the engine)."""

import torch
import torch.nn as nn
from opacus import PrivacyEngine
from torch.utils.data import DataLoader, TensorDataset


class Classifier(nn.Module):
    def __init__(self, features=6, classes=3):
        super().__init__()
        self.hidden = nn.Linear(features, 16)
        self.out = nn.Linear(16, classes)

    def forward(self, x):
        return self.out(torch.relu(self.hidden(x)))


def assert_private_compatible(model):
    from opacus.dp_model_inspector import DPModelInspector  # expect: DPL212

    inspector = DPModelInspector()
    if not inspector.validate(model):
        raise ValueError("model is not compatible with Opacus")


def train():
    generator = torch.Generator().manual_seed(1)
    loader = DataLoader(TensorDataset(torch.randn(24, 6, generator=generator), torch.randint(0, 3, (24,), generator=generator)),
                        batch_size=8)
    model = Classifier()
    assert_private_compatible(model)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    model, optimizer, loader = PrivacyEngine().make_private(
        module=model, optimizer=optimizer, data_loader=loader, noise_multiplier=1.0, max_grad_norm=1.0,
    )
    for x, y in loader:
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()


CASE = {
    "script": "train",
    "runtime": "crash",
    "reaches_engine": False,
    "error": "No module named 'opacus.dp_model_inspector'",
}

"""After building the optimizer the script only *validates* the model (ModuleValidator.validate
returns a list of errors and copies nothing), and fixes nothing: the optimizer's parameters are the
model's."""

import torch
import torch.nn as nn
from opacus import PrivacyEngine
from opacus.validators import ModuleValidator
from torch.utils.data import DataLoader, TensorDataset


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = nn.Sequential(nn.Linear(5, 10), nn.ReLU(), nn.Linear(10, 2))

    def forward(self, x):
        return self.layers(x)


def build_optimizer(net, lr):
    decay = [p for name, p in net.named_parameters() if not name.endswith("bias")]
    no_decay = [p for name, p in net.named_parameters() if name.endswith("bias")]
    return torch.optim.AdamW([{"params": decay, "weight_decay": 0.01}, {"params": no_decay, "weight_decay": 0.0}], lr=lr)


def main():
    generator = torch.Generator().manual_seed(4)
    dataset = TensorDataset(torch.randn(40, 5, generator=generator), torch.randint(0, 2, (40,), generator=generator))
    model = MLP()
    optimizer = build_optimizer(model, lr=1e-3)
    errors = ModuleValidator.validate(model, strict=False)
    if errors:
        raise SystemExit(f"not DP-compatible: {errors}")
    engine = PrivacyEngine()
    model, optimizer, loader = engine.make_private(
        module=model, optimizer=optimizer, data_loader=DataLoader(dataset, batch_size=10),
        noise_multiplier=1.0, max_grad_norm=1.0,
    )
    for x, y in loader:
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()


CASE = {
    "script": "main",
    "runtime": "ok",
}

"""Validation that imports the 1.x `ModuleValidator` and falls back to the 0.x inspector and
`module_modification` only when that import fails (Opacus 0.x): on Opacus >= 1.0 the fallbacks never run."""

import torch
import torch.nn as nn
from opacus import PrivacyEngine
from torch.utils.data import DataLoader, TensorDataset

try:
    from opacus.validators import ModuleValidator
except ImportError:
    from opacus.dp_model_inspector import DPModelInspector

    ModuleValidator = None


def prepare(model):
    if ModuleValidator is not None:
        ModuleValidator.validate(model, strict=True)
        return model
    try:
        from opacus.utils.module_modification import convert_batchnorm_modules
    except ModuleNotFoundError:
        return model
    DPModelInspector().validate(model)
    return convert_batchnorm_modules(model)


def train():
    generator = torch.Generator().manual_seed(7)
    loader = DataLoader(TensorDataset(torch.randn(24, 3, 6, 6, generator=generator), torch.randint(0, 4, (24,), generator=generator)),
                        batch_size=8)
    model = prepare(nn.Sequential(nn.Conv2d(3, 8, 3), nn.GroupNorm(4, 8), nn.ReLU(), nn.Flatten(), nn.Linear(8 * 4 * 4, 4)))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    model, optimizer, loader = PrivacyEngine().make_private(
        module=model, optimizer=optimizer, data_loader=loader, noise_multiplier=1.0, max_grad_norm=1.0,
    )
    for x, y in loader:
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()


CASE = {
    "script": "train",
    "runtime": "ok",
}

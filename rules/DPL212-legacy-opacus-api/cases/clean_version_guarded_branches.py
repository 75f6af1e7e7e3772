"""A script that supports both APIs and picks one by the installed Opacus version: the 0.x branch never
runs on Opacus >= 1.0."""

import opacus
import torch
import torch.nn as nn
from opacus import PrivacyEngine
from torch.utils.data import DataLoader, TensorDataset

OPACUS_MAJOR = int(opacus.__version__.split(".")[0])


def make_private(model, optimizer, loader, noise_multiplier, max_grad_norm):
    if int(opacus.__version__.split(".")[0]) < 1:
        engine = PrivacyEngine(model, sample_rate=loader.batch_size / len(loader.dataset),
                               noise_multiplier=noise_multiplier, max_grad_norm=max_grad_norm)
        engine.attach(optimizer)
        return engine, model, optimizer, loader
    engine = PrivacyEngine()
    model, optimizer, loader = engine.make_private(
        module=model, optimizer=optimizer, data_loader=loader,
        noise_multiplier=noise_multiplier, max_grad_norm=max_grad_norm,
    )
    return engine, model, optimizer, loader


def epsilon(engine, delta):
    if OPACUS_MAJOR >= 1:
        return engine.get_epsilon(delta)
    return engine.get_privacy_spent(delta)[0]


def train():
    generator = torch.Generator().manual_seed(6)
    loader = DataLoader(TensorDataset(torch.randn(20, 4, generator=generator), torch.randn(20, 1, generator=generator)),
                        batch_size=5)
    model = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 1))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05)
    engine, model, optimizer, loader = make_private(model, optimizer, loader, 1.0, 1.0)
    criterion = nn.MSELoss()
    for x, y in loader:
        optimizer.zero_grad()
        criterion(model(x), y).backward()
        optimizer.step()
    print(epsilon(engine, 1e-5))


CASE = {
    "script": "train",
    "runtime": "ok",
}

"""Federated rounds: each of 3 rounds gives a client a fresh PrivacyEngine and
`make_private_with_epsilon(epochs=1)`, then trains one local epoch. The round loop holds the engine call, so
each engine's budget covers its own round: every accountant ends at its target."""

import copy

import torch
import torch.nn as nn
import torch.nn.functional as F
from opacus import PrivacyEngine
from torch.utils.data import DataLoader, TensorDataset

ROUNDS = 3


def main():
    generator = torch.Generator().manual_seed(0)
    client_data = TensorDataset(torch.randn(32, 8, generator=generator),
                                torch.randint(0, 3, (32,), generator=generator))
    global_model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 3))
    for round_index in range(ROUNDS):
        local = copy.deepcopy(global_model)
        optimizer = torch.optim.SGD(local.parameters(), lr=0.1)
        engine = PrivacyEngine()
        local, optimizer, loader = engine.make_private_with_epsilon(
            module=local, optimizer=optimizer, data_loader=DataLoader(client_data, batch_size=8),
            target_epsilon=2.0, target_delta=1e-5, epochs=1, max_grad_norm=1.0,
        )
        for x, y in loader:
            optimizer.zero_grad()
            F.cross_entropy(local(x), y).backward()
            optimizer.step()
        global_model.load_state_dict(local._module.state_dict())


CASE = {
    "script": "main",
    "runtime": "ok",
}

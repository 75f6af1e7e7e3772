"""Federated rounds: each client makes a fresh model private, but the local loop iterates the client's
original loader (`self.loader`) instead of the returned one (`self.dp_loader`)."""

import torch
import torch.nn as nn
from opacus import PrivacyEngine
from torch.utils.data import DataLoader, TensorDataset


class ClientModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.layer = nn.Linear(6, 2)

    def forward(self, x):
        return self.layer(x)


class Client:
    def __init__(self, seed):
        generator = torch.Generator().manual_seed(seed)
        data = TensorDataset(torch.randn(32, 6, generator=generator), torch.randint(0, 2, (32,), generator=generator))
        self.loader = DataLoader(data, batch_size=8)
        self.engine = PrivacyEngine()

    def local_update(self, global_state):
        model = ClientModel()
        model.load_state_dict(global_state)
        optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
        model, optimizer, self.dp_loader = self.engine.make_private(
            module=model, optimizer=optimizer, data_loader=self.loader, noise_multiplier=1.0, max_grad_norm=1.0,
        )
        self.train_epoch(model, optimizer)
        return {k.removeprefix("_module."): v.detach() for k, v in model.state_dict().items()}

    def train_epoch(self, model, optimizer):
        for x, y in self.loader:  # expect: DPL205
            optimizer.zero_grad()
            nn.functional.cross_entropy(model(x), y).backward()
            optimizer.step()


def run(rounds=2):
    clients = [Client(seed) for seed in range(2)]
    state = ClientModel().state_dict()
    for _ in range(rounds):
        updates = [client.local_update(state) for client in clients]
        state = {k: torch.stack([u[k] for u in updates]).mean(0) for k in state}


CASE = {
    "script": "run",
    "runtime": "silent",
    "violation": "loader",
}

"""Federated averaging: each round, every client makes the shared global model private with a fresh
optimizer and a PrivacyEngine of its own; the model object is the same every time."""

import argparse

import torch
import torch.nn as nn
from opacus import PrivacyEngine
from torch.utils.data import DataLoader, TensorDataset


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(6, 12)
        self.fc2 = nn.Linear(12, 2)

    def forward(self, x):
        return self.fc2(torch.relu(self.fc1(x)))


def client_loaders(count):
    generator = torch.Generator().manual_seed(5)
    return [DataLoader(TensorDataset(torch.randn(24, 6, generator=generator), torch.randint(0, 2, (24,), generator=generator)),
                       batch_size=8) for _ in range(count)]


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=2)
    parser.add_argument("--local-steps", type=int, default=2)
    args = parser.parse_args(argv)
    loaders = client_loaders(args.clients)
    global_model = Net()
    for rnd in range(3):
        states = []
        for loader in loaders:
            optimizer = torch.optim.SGD(global_model.parameters(), lr=0.1)
            engine = PrivacyEngine()
            local_model, optimizer, private_loader = engine.make_private(  # expect: DPL208
                module=global_model, optimizer=optimizer, data_loader=loader,
                noise_multiplier=1.0, max_grad_norm=1.0,
            )
            for step, (x, y) in enumerate(private_loader):
                if step == args.local_steps:
                    break
                optimizer.zero_grad()
                nn.functional.cross_entropy(local_model(x), y).backward()
                optimizer.step()
            states.append({k: v.detach().clone() for k, v in global_model.state_dict().items()})
        global_model.load_state_dict({k: torch.stack([s[k] for s in states]).mean(0) for k in states[0]})
        print(f"round {rnd} done")


CASE = {
    "script": "main",
    "args": [[]],
    "runtime": "crash",
    "error": "Trying to add hooks twice to the same model",
}

"""Federated averaging done right: each client trains a deep copy of the global model, which itself
is never made private, and the averaged weights are loaded into the global model."""

import argparse
import copy

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
            local_model = copy.deepcopy(global_model)
            optimizer = torch.optim.SGD(local_model.parameters(), lr=0.1)
            engine = PrivacyEngine()
            local_model, optimizer, private_loader = engine.make_private(
                module=local_model, optimizer=optimizer, data_loader=loader,
                noise_multiplier=1.0, max_grad_norm=1.0,
            )
            for step, (x, y) in enumerate(private_loader):
                if step == args.local_steps:
                    break
                optimizer.zero_grad()
                nn.functional.cross_entropy(local_model(x), y).backward()
                optimizer.step()
            states.append({k.removeprefix("_module."): v.detach().clone() for k, v in local_model.state_dict().items()})
        global_model.load_state_dict({k: torch.stack([s[k] for s in states]).mean(0) for k in states[0]})
        print(f"round {rnd} done")


CASE = {
    "script": "main",
    "args": [[]],
    "runtime": "ok",
}

"""An argparse main() with mixed precision: autocast (fp16, CUDA only) and a GradScaler that scales
the loss of the private model; on a CPU machine the scaler is built for "cpu" and scales too."""

import argparse

import torch
import torch.nn as nn
from opacus import PrivacyEngine
from torch.utils.data import DataLoader, TensorDataset


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(8, 16)
        self.fc2 = nn.Linear(16, 3)

    def forward(self, x):
        return self.fc2(torch.relu(self.fc1(x)))


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--lr", type=float, default=0.1)
    args = parser.parse_args(argv)
    device = "cuda" if torch.cuda.is_available() else "cpu"

    generator = torch.Generator().manual_seed(0)
    dataset = TensorDataset(torch.randn(64, 8, generator=generator), torch.randint(0, 3, (64,), generator=generator))
    train_loader = DataLoader(dataset, batch_size=args.batch_size)
    model = Net().to(device)
    optimizer = torch.optim.SGD(model.parameters(), lr=args.lr)
    criterion = nn.CrossEntropyLoss()
    privacy_engine = PrivacyEngine()
    model, optimizer, train_loader = privacy_engine.make_private(
        module=model,
        optimizer=optimizer,
        data_loader=train_loader,
        noise_multiplier=1.0,
        max_grad_norm=1.0,
    )
    scaler = torch.amp.GradScaler(device)
    for epoch in range(args.epochs):
        for x, y in train_loader:
            x, y = x.to(device), y.to(device)
            optimizer.zero_grad()
            with torch.autocast(device_type=device, dtype=torch.float16, enabled=device == "cuda"):
                loss = criterion(model(x), y)
            scaler.scale(loss).backward()  # expect: DPL206
            scaler.step(optimizer)
            scaler.update()
        print(f"epoch {epoch}: epsilon {privacy_engine.get_epsilon(delta=1e-5):.2f}")


CASE = {
    "script": "main",
    "args": [[]],
    "runtime": "silent",
    "violation": "per-sample",
}

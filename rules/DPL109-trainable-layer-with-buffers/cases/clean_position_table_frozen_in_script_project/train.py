"""Train the sequence classifier with DP-SGD, its class token frozen before make_private."""

import argparse

import torch
import torch.nn as nn
from model import SequenceClassifier
from opacus import PrivacyEngine
from torch.utils.data import DataLoader, TensorDataset


def parse_args(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--d-model", type=int, default=16)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--sigma", type=float, default=1.0)
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    generator = torch.Generator().manual_seed(0)
    dataset = TensorDataset(torch.randn(32, 10, 6, generator=generator), torch.randint(0, 3, (32,), generator=generator))
    train_loader = DataLoader(dataset, batch_size=args.batch_size)
    model = SequenceClassifier(6, args.d_model, 3)
    model.cls_token.requires_grad_(False)  # a fixed class token
    optimizer = torch.optim.Adam((p for p in model.parameters() if p.requires_grad), lr=1e-3)
    engine = PrivacyEngine()
    model, optimizer, train_loader = engine.make_private(
        module=model, optimizer=optimizer, data_loader=train_loader,
        noise_multiplier=args.sigma, max_grad_norm=1.0,
    )
    criterion = nn.CrossEntropyLoss()
    for _ in range(args.epochs):
        for x, y in train_loader:
            optimizer.zero_grad()
            criterion(model(x), y).backward()
            optimizer.step()


if __name__ == "__main__":
    main()


CASE = {"script": "main", "args": [[]], "runtime": "ok"}

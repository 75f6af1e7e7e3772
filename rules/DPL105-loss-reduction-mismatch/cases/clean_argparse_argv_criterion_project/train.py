# Twin of flag_argparse_argv_criterion_project: the same `--loss-reduction` (default "sum") builds
# the criterion and is passed to make_private as `loss_reduction=args.loss_reduction`, so the
# engine scales the per-sample gradients for the reduction the loss uses: exact per-sample
# gradients, clipped as configured.
import argparse

import torch
import torch.nn as nn
from opacus import PrivacyEngine
from torch.utils.data import DataLoader, TensorDataset

from model import Classifier


def parse(argv):
    parser = argparse.ArgumentParser(description="DP tabular classifier")
    parser.add_argument("--loss-reduction", default="sum", choices=["mean", "sum"])
    parser.add_argument("--max-grad-norm", type=float, default=0.01)
    parser.add_argument("--batch-size", type=int, default=16)
    return parser.parse_args(argv)


def main(argv=()):
    args = parse(list(argv))
    x = torch.randn(64, 10)
    x[::8] *= 100
    loader = DataLoader(TensorDataset(x, torch.randint(0, 3, (64,))), batch_size=args.batch_size)
    model = Classifier()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    criterion = nn.CrossEntropyLoss(reduction=args.loss_reduction)
    engine = PrivacyEngine()
    model, optimizer, loader = engine.make_private(
        module=model, optimizer=optimizer, data_loader=loader, noise_multiplier=0.0,
        max_grad_norm=args.max_grad_norm, loss_reduction=args.loss_reduction,
    )
    for features, labels in loader:
        optimizer.zero_grad()
        loss = criterion(model(features), labels)
        loss.backward()
        optimizer.step()
    return model


CASE = {
    "script": "main",
    "args": [[]],
    "runtime": "ok",
}

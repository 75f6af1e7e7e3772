# Mirrors a command-line training script: `--loss-reduction` defaults to "sum" and builds the
# criterion (`nn.CrossEntropyLoss(reduction=args.loss_reduction)`), parsed with
# `parser.parse_args(argv)` in `main(argv=())`, but make_private keeps its default
# loss_reduction="mean". Opacus then takes the summed loss for a mean: every per-sample gradient
# is B times the true one (measured: 17-23x for batches of 17-23), clipped by the wrong scale; no
# error is raised. Fix: pass `loss_reduction=args.loss_reduction` to make_private (dp-lint offers
# no automatic fix: the reduction comes from the command line, a literal could disagree with it).
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
        max_grad_norm=args.max_grad_norm,
    )
    for features, labels in loader:
        optimizer.zero_grad()
        loss = criterion(model(features), labels)  # expect: DPL105
        loss.backward()
        optimizer.step()
    return model


CASE = {
    "script": "main",
    "args": [[]],
    "runtime": "silent",
    "violation": "per-sample",
}

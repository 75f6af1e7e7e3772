# Part of the multi-file case (see har/model.py): the command-line training script.
import argparse

import torch
import torch.nn.functional as F
from opacus import PrivacyEngine

from har.model import ActivityNet


def parse_args():
    parser = argparse.ArgumentParser(description="DP activity recognition")
    parser.add_argument("--hidden", type=int, default="16")
    parser.add_argument("--lr", type=float, default=0.05)
    parser.add_argument("--seq-first", dest="batch_first", action="store_false", help="feed [time, batch, features]")
    parser.add_argument("--sigma", type=float, default=1.0)
    return parser.parse_args()


def main(loader):
    args = parse_args()
    model = ActivityNet(hidden=args.hidden, batch_first=args.batch_first)
    optimizer = torch.optim.SGD(model.parameters(), lr=args.lr)
    engine = PrivacyEngine()
    model, optimizer, loader = engine.make_private(
        module=model, optimizer=optimizer, data_loader=loader, noise_multiplier=args.sigma, max_grad_norm=1.0,
    )
    for x, y in loader:
        optimizer.zero_grad()
        F.cross_entropy(model(x), y).backward()
        optimizer.step()
    return model
